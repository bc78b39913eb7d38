package io.moestream.engine.tensor;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Exact conversions of the low-precision formats of published checkpoints to float32. */
public final class NumberFormats {
    private static final VectorSpecies<Short> S128 = ShortVector.SPECIES_128;
    private static final VectorSpecies<Integer> I256 = IntVector.SPECIES_256;
    private static final float[] E4M3_TO_FLOAT = buildE4m3Table();
    /** The 8 magnitudes of FP4 E2M1, indexed by its 3 low bits (exponent, mantissa). */
    private static final float[] E2M1_MAGNITUDES = {0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f};

    private NumberFormats() {}

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    /** Rounds to the nearest bfloat16, ties to even (as PyTorch's {@code .to(torch.bfloat16)}). */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** Widens {@code n} bfloat16 values to float32. */
    public static void bf16ToFloat(short[] src, int srcOff, float[] dst, int dstOff, int n) {
        int vn = n & ~7;
        for (int i = 0; i < vn; i += 8) {
            ((IntVector) ShortVector.fromArray(S128, src, srcOff + i).castShape(I256, 0))
                    .lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats()
                    .intoArray(dst, dstOff + i);
        }
        for (int i = vn; i < n; i++) {
            dst[dstOff + i] = bf16ToFloat(src[srcOff + i]);
        }
    }

    /** IEEE half precision to float32 (exact). */
    public static float f16ToFloat(short half) {
        int h = half & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1F;
        int mantissa = h & 0x3FF;
        if (exponent == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            if (mantissa == 0) {
                return Float.intBitsToFloat(sign);
            }
            float value = mantissa * 0x1p-24f;
            return sign != 0 ? -value : value;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    /** FP8 E4M3 ("fn": bias 7, no infinities, S.1111.111 is NaN) to float32 (exact). */
    public static float e4m3ToFloat(byte bits) {
        return E4M3_TO_FLOAT[bits & 0xFF];
    }

    private static float[] buildE4m3Table() {
        float[] table = new float[256];
        for (int b = 0; b < 256; b++) {
            int exponent = (b >>> 3) & 0xF;
            int mantissa = b & 0x7;
            float magnitude;
            if (exponent == 0xF && mantissa == 0x7) {
                magnitude = Float.NaN;
            } else if (exponent == 0) {
                magnitude = mantissa * 0x1p-9f; // subnormal: m/8 * 2^-6
            } else {
                magnitude = (1 + mantissa / 8f) * (float) Math.pow(2, exponent - 7);
            }
            table[b] = (b & 0x80) != 0 ? -magnitude : magnitude;
        }
        return table;
    }

    /**
     * FP4 E2M1 (OCP MX: bit 3 sign, bits 2..1 exponent with bias 1, bit 0 mantissa; no infinities or NaN) to float32
     * (exact): {0, 0.5, 1, 1.5, 2, 3, 4, 6} and their negatives. Only the low 4 bits of {@code nibble} are used;
     * {@code 0b1000} is -0.0.
     */
    public static float e2m1ToFloat(int nibble) {
        float magnitude = E2M1_MAGNITUDES[nibble & 7];
        return (nibble & 8) != 0 ? -magnitude : magnitude;
    }

    /**
     * E8M0, the block scale of the OCP MX formats (an 8-bit biased exponent, no sign or mantissa), to float32:
     * {@code 2^(bits - 127)}, exact from 2^-127 (a float32 subnormal) to 2^127; {@code 0xFF} is NaN.
     */
    public static float e8m0ToFloat(byte bits) {
        int e = bits & 0xFF;
        if (e == 0xFF) {
            return Float.NaN;
        }
        // A normal float32 has exponent fields 1..254; byte 0 is 2^-127, the subnormal with only mantissa bit 22.
        return Float.intBitsToFloat(e == 0 ? 1 << 22 : e << 23);
    }
}
