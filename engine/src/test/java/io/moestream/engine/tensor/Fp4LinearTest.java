package io.moestream.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * FP4 (MXFP4) weights: the E2M1 and E8M0 conversions against their definitions, quantisation's rounding, the stored
 * byte layout, and the kernels against the float32 matrix of the dequantised weights, bit for bit.
 */
class Fp4LinearTest {
    private static final int[] OUTS = {1, 15, 17, 40, 130};
    private static final int[] INS = {32, 64, 96, 320};
    private static final int[] ROWS = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 64};

    /** E2M1 from its definition: sign, 2 exponent bits with bias 1 (0 is subnormal), 1 mantissa bit. */
    private static double e2m1(int nibble) {
        int exponent = (nibble >> 1) & 3;
        int mantissa = nibble & 1;
        double magnitude = exponent == 0 ? mantissa * 0.5 : Math.pow(2, exponent - 1) * (1 + mantissa / 2.0);
        return (nibble & 8) != 0 ? -magnitude : magnitude;
    }

    @Test
    void e2m1IsItsDefinitionWithNegativeZeroAndIgnoresHigherBits() {
        float[] expected = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6, -0f, -0.5f, -1, -1.5f, -2, -3, -4, -6};
        for (int nibble = 0; nibble < 16; nibble++) {
            float value = NumberFormats.e2m1ToFloat(nibble);
            assertEquals(Float.floatToRawIntBits((float) e2m1(nibble)), Float.floatToRawIntBits(value), "" + nibble);
            assertEquals(Float.floatToRawIntBits(expected[nibble]), Float.floatToRawIntBits(value), "" + nibble);
            assertEquals(
                    Float.floatToRawIntBits(value), Float.floatToRawIntBits(NumberFormats.e2m1ToFloat(nibble | 0xF0)));
        }
        assertEquals(0x80000000, Float.floatToRawIntBits(NumberFormats.e2m1ToFloat(8)));
    }

    @Test
    void e8m0IsAPowerOfTwoDownToTheSubnormal2ToMinus127AndNaNAt255() {
        for (int b = 0; b < 255; b++) {
            float expected = (float) Math.pow(2, b - 127); // exact: powers of two from 2^-127 are floats
            assertEquals(
                    Float.floatToRawIntBits(expected), Float.floatToRawIntBits(NumberFormats.e8m0ToFloat((byte) b)));
        }
        assertEquals(Float.MIN_NORMAL / 2, NumberFormats.e8m0ToFloat((byte) 0));
        assertEquals(1f, NumberFormats.e8m0ToFloat((byte) 127));
        assertEquals(0x1p127f, NumberFormats.e8m0ToFloat((byte) 254));
        assertTrue(Float.isNaN(NumberFormats.e8m0ToFloat((byte) 255)));
    }

    /** The kernels' vector decode of the scales gives e8m0ToFloat's bits for every byte, NaN included. */
    @Test
    void vectorScaleDecodeIsBitwiseTheScalarOneForAllBytes() {
        byte[] bytes = new byte[256 + 8];
        for (int b = 0; b < bytes.length; b++) {
            bytes[b] = (byte) b;
        }
        float[] lanes = new float[8];
        for (int at = 0; at < 256; at += 8) {
            Fp4Linear.scales(bytes, at).intoArray(lanes, 0);
            for (int l = 0; l < 8; l++) {
                assertEquals(
                        Float.floatToRawIntBits(NumberFormats.e8m0ToFloat(bytes[at + l])),
                        Float.floatToRawIntBits(lanes[l]),
                        "byte " + (at + l));
            }
        }
    }

    @Test
    void quantizeRoundsToNearestTiesToEvenMantissaAndKeepsTheSign() {
        // One block whose largest magnitude is 6: scale 1, so each weight is rounded as it is.
        float[] w = {
            6,
            0.25f,
            0.75f,
            1.25f,
            1.75f,
            2.5f,
            3.5f,
            5, // ties: 0, 1, 1, 2, 2, 4, 4
            0.2500001f,
            0.7499999f,
            1.2500001f,
            1.7499999f,
            2.5000002f,
            3.4999998f,
            5.0000005f,
            0.1f,
            -0.25f,
            -0.75f,
            -5,
            -5.0000005f,
            -0f,
            0f,
            -0.1f,
            -6,
            0.5f,
            1,
            1.5f,
            2,
            3,
            4,
            -0.5f,
            -3
        };
        float[] expected = {
            6, 0, 1, 1, 2, 2, 4, 4, 0.5f, 0.5f, 1.5f, 1.5f, 3, 3, 6, 0, -0f, -1, -4, -6, -0f, 0, -0f, -6, 0.5f, 1, 1.5f,
            2, 3, 4, -0.5f, -3
        };
        Fp4Linear m = Fp4Linear.quantize(w, 1, 32);
        assertEquals(127, m.scaleBytes()[0] & 0xFF);
        for (int i = 0; i < 32; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(m.get(0, i)), "weight " + i);
        }
        // Beyond 6 (only reachable past the largest scale) clamps to the largest code.
        assertEquals(7, Fp4Linear.nearestMagnitude(6.5));
        assertEquals(7, Fp4Linear.nearestMagnitude(1e300));
    }

    @Test
    void quantizeChoosesTheSmallestScaleThatCoversTheBlock() {
        // amax -> scale exponent: amax <= 6 * 2^e with e smallest.
        float[][] cases = {{6, 0}, {Math.nextUp(6f), 1}, {3, -1}, {3.0000002f, 0}, {12, 1}, {0.1f, -5}, {1e30f, 98}};
        for (float[] c : cases) {
            float[] w = new float[32];
            w[5] = -c[0];
            Fp4Linear m = Fp4Linear.quantize(w, 1, 32);
            assertEquals((int) c[1] + 127, m.scaleBytes()[0] & 0xFF, "amax " + c[0]);
            assertTrue(c[0] <= 6 * Math.scalb(1.0, (int) c[1]) && c[0] > 6 * Math.scalb(1.0, (int) c[1] - 1));
        }
        // Tiny blocks clamp to 2^-127 (byte 0), whose weights are float32 subnormals.
        float[] tiny = new float[32];
        tiny[0] = 0x1p-126f;
        tiny[1] = -0x1p-127f;
        Fp4Linear m = Fp4Linear.quantize(tiny, 1, 32);
        assertEquals(0, m.scaleBytes()[0]);
        assertEquals(0x1p-126f, m.get(0, 0)); // 2 * 2^-127
        assertEquals(-0x1p-127f, m.get(0, 1));
        // An all-zero block gets scale 1 and keeps its negative zeros.
        float[] zeros = new float[64];
        zeros[3] = -0f;
        zeros[40] = 1;
        m = Fp4Linear.quantize(zeros, 1, 64);
        assertEquals(127, m.scaleBytes()[0] & 0xFF);
        assertEquals(0x80000000, Float.floatToRawIntBits(m.get(0, 3)));
        assertEquals(0, Float.floatToRawIntBits(m.get(0, 4)));
        float[] nan = new float[32];
        nan[7] = Float.NaN;
        assertEquals(
                "weight (0, 7) is NaN",
                assertThrows(IllegalArgumentException.class, () -> Fp4Linear.quantize(nan, 1, 32))
                        .getMessage());
    }

    @Test
    void storedLayoutIsRowMajorLowNibbleFirstWithOneScaleBytePer32Inputs() {
        // 2 rows x 64 inputs, in a larger array at offsets 3 (codes) and 1 (scales).
        byte[] codes = new byte[3 + 2 * 32 + 5];
        Arrays.fill(codes, (byte) 0x77); // not part of the slice
        byte[] rowCodes = new byte[2 * 32];
        rowCodes[0] = 0x21; // row 0: input 0 code 1 (0.5), input 1 code 2 (1)
        rowCodes[1] = (byte) 0xF8; // input 2 code 8 (-0), input 3 code 15 (-6)
        rowCodes[16] = 0x07; // input 32 code 7 (6), input 33 code 0
        rowCodes[31] = (byte) 0x9C; // input 62 code 12 (-2), input 63 code 9 (-0.5)
        rowCodes[32] = 0x3B; // row 1: input 0 code 11 (-1.5), input 1 code 3 (1.5)
        System.arraycopy(rowCodes, 0, codes, 3, rowCodes.length);
        byte[] scales = {(byte) 0xEE, (byte) 127, (byte) 129, (byte) 126, (byte) 0, (byte) 0xEE};
        Fp4Linear m = Fp4Linear.fromPacked(codes, 3, scales, 1, 2, 64);
        assertEquals(0.5f, m.get(0, 0));
        assertEquals(1f, m.get(0, 1));
        assertEquals(0x80000000, Float.floatToRawIntBits(m.get(0, 2)));
        assertEquals(-6f, m.get(0, 3));
        assertEquals(24f, m.get(0, 32)); // 6 * 2^2
        assertEquals(0f, m.get(0, 33));
        assertEquals(-8f, m.get(0, 62));
        assertEquals(-2f, m.get(0, 63));
        assertEquals(-0.75f, m.get(1, 0)); // -1.5 * 2^-1
        assertEquals(0.75f, m.get(1, 1));
        assertEquals(0f, m.get(1, 40)); // code 0 times 2^-127
        assertArrayEquals(rowCodes, m.packedBytes());
        assertArrayEquals(Arrays.copyOfRange(scales, 1, 5), m.scaleBytes());
        float[] dequantized = m.dequantized();
        for (int o = 0; o < 2; o++) {
            for (int i = 0; i < 64; i++) {
                assertEquals(Float.floatToRawIntBits(m.get(o, i)), Float.floatToRawIntBits(dequantized[o * 64 + i]));
            }
        }
        // A panel of 16 rows: 16 * 64 / 2 code bytes and 16 * 2 scale bytes (about 0.53 bytes per weight).
        assertEquals(16 * 32 + 16 * 2, m.bytes());
    }

    @Test
    void fromPackedRejectsBadShapesAndShortSlicesClearly() {
        byte[] codes = new byte[64];
        byte[] scales = new byte[4];
        assertEquals(
                "shape 2x48: FP4 needs at least one row and an input count that is a positive multiple of 32",
                assertThrows(IllegalArgumentException.class, () -> Fp4Linear.fromPacked(codes, 0, scales, 0, 2, 48))
                        .getMessage());
        assertThrows(IllegalArgumentException.class, () -> Fp4Linear.fromPacked(codes, 0, scales, 0, 0, 32));
        assertEquals(
                "packed: 64 bytes needed from offset 1 for 2x64, array has 64",
                assertThrows(IllegalArgumentException.class, () -> Fp4Linear.fromPacked(codes, 1, scales, 0, 2, 64))
                        .getMessage());
        assertEquals(
                "scales: 4 bytes needed from offset 1 for 2x64, array has 4",
                assertThrows(IllegalArgumentException.class, () -> Fp4Linear.fromPacked(codes, 0, scales, 1, 2, 64))
                        .getMessage());
        assertThrows(IllegalArgumentException.class, () -> Fp4Linear.fromPacked(codes, -1, scales, 0, 1, 32));
        assertThrows(IllegalArgumentException.class, () -> Fp4Linear.quantize(new float[40], 1, 40));
    }

    @Test
    void quantizedStoredBytesRoundTripThroughFromPacked() {
        SplittableRandom random = new SplittableRandom(11);
        float[] w = gaussians(random, 17 * 96);
        Fp4Linear quantized = Fp4Linear.quantize(w, 17, 96);
        byte[] codes = quantized.packedBytes();
        byte[] scales = quantized.scaleBytes();
        assertEquals(17 * 48, codes.length);
        assertEquals(17 * 3, scales.length);
        Fp4Linear loaded = Fp4Linear.fromPacked(codes, 0, scales, 0, 17, 96);
        assertArrayEquals(codes, loaded.packedBytes());
        assertArrayEquals(scales, loaded.scaleBytes());
        assertArrayEquals(bits(quantized.dequantized()), bits(loaded.dequantized()));
        // Quantisation error within half a step of the block's scale (a step is at most 2 * scale).
        for (int o = 0; o < 17; o++) {
            for (int i = 0; i < 96; i++) {
                float scale = NumberFormats.e8m0ToFloat(scales[o * 3 + i / 32]);
                assertTrue(Math.abs(loaded.get(o, i) - w[o * 96 + i]) <= scale, "weight (" + o + ", " + i + ")");
            }
        }
    }

    /** The central property: any row count, kernel, thread count and batch gives the float32 matrix's bits. */
    @Test
    void kernelsAreBitwiseTheFloat32MatrixOfTheDequantisedWeights() {
        SplittableRandom random = new SplittableRandom(5);
        Parallel[] pools = {Parallel.create(1), Parallel.create(2), Parallel.create(3)};
        try {
            for (int out : OUTS) {
                for (int in : INS) {
                    Fp4Linear fp4 = randomFp4(random, out, in, 117, 137);
                    checkAgainstFloat32(fp4, random, pools);
                }
            }
        } finally {
            for (Parallel pool : pools) {
                pool.close();
            }
        }
    }

    /**
     * The kernels decode every scale byte as e8m0ToFloat: 2^-127 (subnormal weights), the largest scales (products
     * that overflow to infinity) and NaN, in rows of their own (an infinity meeting a NaN in one sum leaves a NaN
     * whose payload the instruction's operand order picks).
     */
    @Test
    void extremeScalesAreExactToo() {
        SplittableRandom random = new SplittableRandom(9);
        int out = 48;
        int in = 96;
        byte[] codes = new byte[out * in / 2];
        for (int c = 0; c < codes.length; c++) {
            codes[c] = (byte) random.nextInt(256);
        }
        byte[] scales = new byte[out * 3];
        for (int o = 0; o < out; o++) {
            for (int b = 0; b < 3; b++) {
                int kind = o % 4;
                scales[o * 3 + b] = (byte)
                        switch (kind) {
                            case 0 -> b == 1 ? 0 : 1; // 2^-127 and 2^-126: subnormal weights and sums
                            case 1 -> b == 1 ? 254 : 253; // 2^127: 2 * 2^127 overflows
                            case 2 -> b == 2 ? 255 : 127; // NaN in the last block
                            default -> 100 + random.nextInt(50);
                        };
            }
        }
        Fp4Linear fp4 = Fp4Linear.fromPacked(codes, 0, scales, 0, out, in);
        Parallel[] pools = {Parallel.create(1), Parallel.create(2)};
        try {
            checkAgainstFloat32(fp4, random, pools);
        } finally {
            for (Parallel pool : pools) {
                pool.close();
            }
        }
    }

    @Test
    void batchedFp4ProductsGiveTheFloat32MatrixBits() {
        SplittableRandom random = new SplittableRandom(3);
        int[][] shapes = {{130, 320}, {17, 64}, {40, 32}, {1, 96}, {256, 128}};
        for (int rows : new int[] {1, 2, 5, 7}) {
            Fp4Linear[] fp4 = new Fp4Linear[shapes.length];
            float[][] inputs = new float[shapes.length][];
            float[][] expected = new float[shapes.length][];
            for (int s = 0; s < shapes.length; s++) {
                int out = shapes[s][0];
                int in = shapes[s][1];
                fp4[s] = randomFp4(random, out, in, 120, 134);
                inputs[s] = gaussians(random, 5 + rows * (in + 3));
                expected[s] = new float[2 + rows * (out + 1)];
                new F32Linear(fp4[s].dequantized(), out, in)
                        .forward(inputs[s], 5, in + 3, rows, expected[s], 2, out + 1);
            }
            LinearBatch batch = new LinearBatch();
            for (int threads : new int[] {1, 2, 3}) {
                try (Parallel parallel = Parallel.create(threads)) {
                    float[][] actual = new float[shapes.length][];
                    batch.clear();
                    for (int s = 0; s < shapes.length; s++) {
                        actual[s] = new float[expected[s].length];
                        batch.add(fp4[s], inputs[s], 5, shapes[s][1] + 3, rows, actual[s], 2, shapes[s][0] + 1);
                    }
                    batch.run(parallel);
                    for (int s = 0; s < shapes.length; s++) {
                        assertArrayEquals(
                                bits(expected[s]), bits(actual[s]), "product " + s + ", " + rows + " rows, " + threads);
                    }
                }
            }
        }
    }

    /**
     * Every row count of {@link #ROWS} through {@code forward} on each pool and row by row, against {@link F32Linear}
     * of the dequantised weights and against the sequential FMA dot product.
     */
    private static void checkAgainstFloat32(Fp4Linear fp4, SplittableRandom random, Parallel[] pools) {
        int out = fp4.outFeatures();
        int in = fp4.inFeatures();
        float[] dequantized = fp4.dequantized();
        F32Linear f32 = new F32Linear(dequantized, out, in);
        for (int rows : ROWS) {
            float[] x = gaussians(random, rows * in);
            float[] expected = new float[rows * out];
            f32.forward(x, 0, in, rows, expected, 0, out);
            String where = out + "x" + in + ", " + rows + " rows";
            for (int t = 0; t < Math.min(rows, 3); t++) {
                for (int o = 0; o < out; o++) {
                    float s = 0;
                    for (int i = 0; i < in; i++) {
                        s = Math.fma(dequantized[o * in + i], x[t * in + i], s);
                    }
                    assertEquals(Float.floatToRawIntBits(s), Float.floatToRawIntBits(expected[t * out + o]), where);
                }
            }
            int[] expectedBits = bits(expected);
            float[] actual = new float[rows * out];
            fp4.forward(x, 0, in, rows, actual, 0, out);
            assertArrayEquals(expectedBits, bits(actual), where + ", serial");
            for (Parallel pool : pools) {
                Arrays.fill(actual, Float.NaN);
                fp4.forward(x, 0, in, rows, actual, 0, out, pool);
                assertArrayEquals(expectedBits, bits(actual), where + ", " + pool.threads() + " threads");
            }
            if (rows <= 13) {
                Arrays.fill(actual, Float.NaN);
                for (int t = 0; t < rows; t++) {
                    fp4.forward(x, t * in, in, 1, actual, t * out, out);
                }
                assertArrayEquals(expectedBits, bits(actual), where + ", one row at a time");
            }
        }
    }

    /** Random codes (all 16, -0 included) with scale bytes in {@code [lowScale, highScale]}, via the stored form. */
    private static Fp4Linear randomFp4(SplittableRandom random, int out, int in, int lowScale, int highScale) {
        byte[] codes = new byte[out * in / 2];
        for (int c = 0; c < codes.length; c++) {
            codes[c] = (byte) random.nextInt(256);
        }
        byte[] scales = new byte[out * in / 32];
        for (int s = 0; s < scales.length; s++) {
            scales[s] = (byte) (lowScale + random.nextInt(highScale - lowScale + 1));
        }
        return Fp4Linear.fromPacked(codes, 0, scales, 0, out, in);
    }

    private static float[] gaussians(SplittableRandom random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    private static int[] bits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }
}
