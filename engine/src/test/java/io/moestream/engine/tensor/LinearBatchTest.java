package io.moestream.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Products run as one batch give the bits of running each alone, whatever the thread count and the rows. */
class LinearBatchTest {
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 7})
    void batchedProductsAreBitwiseThoseRunAlone(int rows) {
        SplittableRandom random = new SplittableRandom(rows);
        // Shapes that share panels unevenly between threads: one panel, several, a partial last panel, big and small.
        int[][] shapes = {{16, 300}, {40, 64}, {512, 256}, {3, 1000}, {256, 512}, {100, 33}};
        Linear[] linears = new Linear[shapes.length];
        float[][] inputs = new float[shapes.length][];
        for (int i = 0; i < shapes.length; i++) {
            int out = shapes[i][0];
            int in = shapes[i][1];
            float[] w = gaussians(random, out * in);
            linears[i] = i % 3 == 0
                    ? new F32Linear(w, out, in)
                    : i % 3 == 1 ? Q8Linear.quantize(w, out, in) : new Bf16Linear(bf16(w), out, in);
            // Rows at a stride wider than the input and an offset, as the attention's per-head slices are.
            inputs[i] = gaussians(random, 5 + rows * (in + 3));
        }
        float[][] alone = new float[shapes.length][];
        for (int i = 0; i < shapes.length; i++) {
            int out = shapes[i][0];
            alone[i] = new float[2 + rows * (out + 1)];
            linears[i].forward(inputs[i], 5, shapes[i][1] + 3, rows, alone[i], 2, out + 1);
        }
        LinearBatch batch = new LinearBatch();
        for (int threads : new int[] {1, 2, 3}) {
            try (Parallel parallel = Parallel.create(threads)) {
                for (int repeat = 0; repeat < 2; repeat++) { // reused after clear()
                    float[][] batched = new float[shapes.length][];
                    batch.clear();
                    for (int i = 0; i < shapes.length; i++) {
                        int out = shapes[i][0];
                        batched[i] = new float[2 + rows * (out + 1)];
                        batch.add(linears[i], inputs[i], 5, shapes[i][1] + 3, rows, batched[i], 2, out + 1);
                    }
                    batch.run(parallel);
                    for (int i = 0; i < shapes.length; i++) {
                        assertArrayEquals(alone[i], batched[i], "product " + i + ", " + threads + " threads");
                    }
                }
            }
        }
    }

    private static float[] gaussians(SplittableRandom random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    private static short[] bf16(float[] values) {
        short[] bits = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = NumberFormats.floatToBf16(values[i]);
        }
        return bits;
    }
}
