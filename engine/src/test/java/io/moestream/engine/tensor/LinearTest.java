package io.moestream.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The storage formats' kernels against the order {@link Linear} promises: every output of every format, whatever the
 * number of rows in the call, the kernel and the thread count, is bitwise the sequential FMA dot product of the weight
 * row as floats.
 */
class LinearTest {
    /** Output counts around the 16-row panel, input counts around q8's input pairs and 32-input blocks. */
    @ParameterizedTest
    @CsvSource({"5,7", "4,8", "9,15", "3,16", "16,23", "17,40", "7,70", "33,256", "48,1031"})
    void everyFormatIsTheCanonicalDotOfItsWidenedRows(int out, int in) {
        SplittableRandom random = new SplittableRandom(out * 1000L + in);
        float[] values = new float[out * in];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        short[] bits = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = NumberFormats.floatToBf16(values[i]);
        }
        for (Linear linear : new Linear[] {
            new F32Linear(values, out, in), new Bf16Linear(bits, out, in), Q8Linear.quantize(values, out, in)
        }) {
            float[] widened = new float[out * in];
            for (int o = 0; o < out; o++) {
                linear.copyRow(o, widened, o * in);
            }
            for (int rows : new int[] {1, 2, 3, 5, 6, 8, 13}) {
                float[] x = new float[rows * in];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) random.nextGaussian();
                }
                float[] expected = new float[rows * out];
                for (int t = 0; t < rows; t++) {
                    for (int o = 0; o < out; o++) {
                        expected[t * out + o] = sequentialDot(widened, o * in, x, t * in, in);
                    }
                }
                float[] serial = new float[rows * out];
                linear.forward(x, 0, in, rows, serial, 0, out);
                assertArrayEquals(expected, serial, linear.getClass().getSimpleName() + " rows " + rows);
                // Row by row (decode) gives the same bits as the whole batch (prefill).
                float[] single = new float[rows * out];
                for (int t = 0; t < rows; t++) {
                    linear.forward(x, t * in, in, 1, single, t * out, out);
                }
                assertArrayEquals(expected, single, linear.getClass().getSimpleName() + " one row at a time");
                try (Parallel parallel = Parallel.create(3)) {
                    float[] threaded = new float[rows * out];
                    linear.forward(x, 0, in, rows, threaded, 0, out, parallel);
                    assertArrayEquals(expected, threaded, linear.getClass().getSimpleName() + " 3 threads");
                }
            }
        }
    }

    private static float sequentialDot(float[] w, int wOff, float[] x, int xOff, int k) {
        float s = 0;
        for (int i = 0; i < k; i++) {
            s = Math.fma(w[wOff + i], x[xOff + i], s);
        }
        return s;
    }

    @ParameterizedTest
    @CsvSource({"3,7", "2,32", "4,100"})
    void q8KeepsEachBlockWithinHalfAStepOfItsScale(int out, int in) {
        SplittableRandom random = new SplittableRandom(in);
        float[] values = new float[out * in];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextDouble() * 4 - 2);
        }
        Q8Linear q8 = Q8Linear.quantize(values, out, in);
        float[] restored = q8.dequantized();
        for (int o = 0; o < out; o++) {
            for (int b = 0; b * Q8Linear.BLOCK < in; b++) {
                float amax = 0;
                int end = Math.min(in, (b + 1) * Q8Linear.BLOCK);
                for (int i = b * Q8Linear.BLOCK; i < end; i++) {
                    amax = Math.max(amax, Math.abs(values[o * in + i]));
                }
                float step = amax / 127;
                for (int i = b * Q8Linear.BLOCK; i < end; i++) {
                    float error = Math.abs(restored[o * in + i] - values[o * in + i]);
                    assertTrue(error <= step * 0.5f + 1e-6f, "weight (" + o + ", " + i + ") error " + error);
                }
            }
        }
        // One byte per weight (inputs padded to pairs) and one float per 32, over whole panels of 16 output rows.
        long panelRows = 16L * ((out + 15) / 16);
        assertEquals(panelRows * (in + in % 2) + 4 * panelRows * ((in + 31) / 32), q8.bytes());
    }
}
