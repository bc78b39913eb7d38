package io.moestream.engine.tensor;

import static jdk.incubator.vector.VectorOperators.AND;
import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.B2I;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.OR;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * An FP4 weight matrix in the OCP MXFP4 format of DeepSeek-V4's routed experts: each row in blocks of 32 weights
 * along the input, each weight a 4-bit E2M1 code ({@link NumberFormats#e2m1ToFloat}) and each block an 8-bit E8M0
 * scale ({@link NumberFormats#e8m0ToFloat}, a power of two). The weight is {@code e2m1 * scale} computed in float32
 * (exact, short of overflow) before the FMA, so the result is bitwise that of the float32 matrix of the dequantised
 * weights ({@link #dequantized}). Half a byte per weight plus a byte per 32: about 0.53 bytes per weight.
 *
 * <p><b>Stored form</b> (as checkpoints hold it and {@link #fromPacked} reads it): codes as bytes {@code [out, in /
 * 2]} row-major, byte {@code b} of row {@code o} holding input {@code 2b} in its low nibble and {@code 2b + 1} in its
 * high nibble; scales as bytes {@code [out, in / 32]} row-major. {@link #packedBytes} and {@link #scaleBytes} give
 * them back, for a writer.
 *
 * <p><b>Layout.</b> Panels of 16 output rows ({@link Linear}), each a run of 8 ints per group of 4 inputs {@code
 * 4m .. 4m+3}: nibble {@code n} of int {@code l} (bits {@code 4n .. 4n+3}) is the code of weight {@code (16p + l +
 * 8(n & 1), 4m + (n >> 1))}. One 32-byte load gives 64 codes; a shift brings the 8 codes of one input and half a
 * panel to the low bits of the lanes, a lookup in an 8-float table ({@code selectFrom}, one {@code vpermd} on JDK 25)
 * gives their magnitudes and a shift and a mask their signs. For each block the 16 rows' scale bytes are side by
 * side, widened to floats once per block and kept in registers for its 32 inputs. The decode is ALU-bound, not
 * memory-bound: GEMV about 12 G weights/s per thread on JDK 25 (Zen 4), half that on JDK 17, whose C2 turns {@code
 * selectFrom} into a shuffle conversion with index checks.
 */
public final class Fp4Linear extends Linear {
    /** Inputs per scale. */
    public static final int BLOCK = 32;

    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F = Kernels.F;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_64;
    private static final int INTS = PANEL / 2;
    private static final int GROUP = 4;
    private static final int GROUPS_PER_BLOCK = BLOCK / GROUP;
    private static final int SIGN = 0x80000000;
    /** The E2M1 magnitudes as float bits, indexed by the code's 3 low bits. */
    private static final IntVector MAGNITUDES = IntVector.fromArray(I, magnitudeBits(), 0);

    /**
     * Whether a lone 6-row block runs on the FP4 panel directly ({@link #kernel6Direct}) instead of widening it first:
     * only with AVX-512's 32 vector registers (its preferred species is 512 bits), which hold the 12 accumulators and
     * the decode. Measured at 6 rows, one thread, 512x1024 in cache: 65 vs 59 GFLOP/s on JDK 25 and 43 vs 38 on JDK
     * 17; with AVX2's 16 registers (-XX:UseAVX=2) it spills and loses, 46 vs 60.
     */
    private static final boolean DIRECT_KERNEL6 = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512;

    /** 2^-127, the smallest E8M0 scale: the float32 subnormal with only mantissa bit 22. */
    private static final int SMALLEST_SCALE_BITS = 1 << 22;

    /** Groups of 4 inputs. */
    private final int groups;

    private final int blocks;
    private final int[] packed;
    private final byte[] scales;

    private Fp4Linear(int outFeatures, int inFeatures) {
        super(outFeatures, inFeatures);
        if (inFeatures % BLOCK != 0) {
            throw new IllegalArgumentException("in features " + inFeatures + " is not a multiple of " + BLOCK);
        }
        this.groups = inFeatures / GROUP;
        this.blocks = inFeatures / BLOCK;
        this.packed = new int[Math.multiplyExact(panels * INTS, groups)];
        this.scales = new byte[Math.multiplyExact(panels * PANEL, blocks)];
    }

    /**
     * Packs a matrix from its stored form (see the class doc): {@code outFeatures * inFeatures / 2} code bytes from
     * {@code packed[packedOffset ..]} and {@code outFeatures * inFeatures / 32} scale bytes from {@code
     * scales[scalesOffset ..]}, both row-major. The arrays are not kept.
     */
    public static Fp4Linear fromPacked(
            byte[] packed, int packedOffset, byte[] scales, int scalesOffset, int outFeatures, int inFeatures) {
        if (outFeatures < 1 || inFeatures < 1 || inFeatures % BLOCK != 0) {
            throw new IllegalArgumentException("shape " + outFeatures + "x" + inFeatures
                    + ": FP4 needs at least one row and an input count that is a positive multiple of " + BLOCK);
        }
        long codeBytes = (long) outFeatures * (inFeatures / 2);
        long scaleBytes = (long) outFeatures * (inFeatures / BLOCK);
        checkSlice("packed", packed.length, packedOffset, codeBytes, outFeatures, inFeatures);
        checkSlice("scales", scales.length, scalesOffset, scaleBytes, outFeatures, inFeatures);
        Fp4Linear m = new Fp4Linear(outFeatures, inFeatures);
        for (int o = 0; o < outFeatures; o++) {
            // A group's 2 stored bytes hold its 4 codes in input order; they go to bits 0, 8, 16 and 24 of the
            // row's int, moved up 4 bits for the panel's second 8 rows.
            int shift = 4 * ((o % PANEL) / INTS);
            int from = packedOffset + o * (inFeatures / 2);
            for (int g = 0, at = m.intIndex(o, 0); g < m.groups; g++, at += INTS) {
                int lo = packed[from + 2 * g] & 0xFF;
                int hi = packed[from + 2 * g + 1] & 0xFF;
                m.packed[at] |= ((lo & 0xF) | (lo >>> 4) << 8 | (hi & 0xF) << 16 | (hi >>> 4) << 24) << shift;
            }
            for (int b = 0; b < m.blocks; b++) {
                m.scales[m.scaleIndex(o, b)] = scales[scalesOffset + o * m.blocks + b];
            }
        }
        return m;
    }

    private static void checkSlice(String name, int length, int offset, long needed, int out, int in) {
        if (offset < 0 || offset > length || length - offset < needed) {
            throw new IllegalArgumentException(name + ": " + needed + " bytes needed from offset " + offset + " for "
                    + out + "x" + in + ", array has " + length);
        }
    }

    /**
     * Quantises the row-major {@code [outFeatures, inFeatures]} float32 matrix {@code weight} to MXFP4: for each block
     * of 32 inputs of a row the scale is {@code 2^e} with {@code e} the smallest integer such that {@code max|w| <= 6 *
     * 2^e} (that is {@code ceil(log2(max|w| / 6))} in exact arithmetic; clamped to E8M0's {@code [-127, 127]}; an
     * all-zero block gets 1), and each weight is rounded to the nearest E2M1 value of {@code w / 2^e}, ties to the
     * even mantissa, clamped to 6, keeping the sign of {@code w} (so -0 and small negatives give the code -0). The
     * stored form of the result is {@link #packedBytes} and {@link #scaleBytes}.
     */
    public static Fp4Linear quantize(float[] weight, int outFeatures, int inFeatures) {
        if (weight.length != (long) outFeatures * inFeatures) {
            throw new IllegalArgumentException(
                    "weight has " + weight.length + " elements, expected " + outFeatures + "x" + inFeatures);
        }
        Fp4Linear m = new Fp4Linear(outFeatures, inFeatures);
        for (int o = 0; o < outFeatures; o++) {
            for (int b = 0; b < m.blocks; b++) {
                int from = o * inFeatures + b * BLOCK;
                float amax = 0;
                for (int i = 0; i < BLOCK; i++) {
                    float w = weight[from + i];
                    if (!Float.isFinite(w)) {
                        throw new IllegalArgumentException("weight (" + o + ", " + (b * BLOCK + i) + ") is " + w);
                    }
                    amax = Math.max(amax, Math.abs(w));
                }
                int e = amax == 0 ? 0 : scaleExponent(amax);
                m.scales[m.scaleIndex(o, b)] = (byte) (e + 127);
                for (int i = 0; i < BLOCK; i++) {
                    float w = weight[from + i];
                    int sign = Float.floatToRawIntBits(w) < 0 ? 8 : 0;
                    m.setCode(o, b * BLOCK + i, sign | nearestMagnitude(Math.abs(Math.scalb((double) w, -e))));
                }
            }
        }
        return m;
    }

    /** The smallest {@code e} in {@code [-127, 127]} with {@code amax <= 6 * 2^e} ({@code amax > 0}, finite). */
    static int scaleExponent(float amax) {
        int e = Math.getExponent(amax) - 2; // amax in [2^k, 2^(k+1)) needs e = k - 2 or k - 1
        while (Math.scalb(6.0, e) < amax) {
            e++;
        }
        return Math.max(-127, Math.min(127, e));
    }

    /** The E2M1 code (3 bits) of the value nearest {@code q >= 0}, ties to the even code (mantissa 0), at most 6. */
    static int nearestMagnitude(double q) {
        // Midpoints between the magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6; a tie goes to the even code.
        if (q <= 0.25) {
            return 0;
        } else if (q < 0.75) {
            return 1;
        } else if (q <= 1.25) {
            return 2;
        } else if (q < 1.75) {
            return 3;
        } else if (q <= 2.5) {
            return 4;
        } else if (q < 3.5) {
            return 5;
        } else if (q <= 5) {
            return 6;
        }
        return 7;
    }

    private int intIndex(int o, int i) {
        return ((o / PANEL) * groups + i / GROUP) * INTS + o % INTS;
    }

    private static int nibbleShift(int o, int i) {
        return 4 * (2 * (i % GROUP) + (o % PANEL) / INTS);
    }

    private int scaleIndex(int o, int block) {
        return ((o / PANEL) * blocks + block) * PANEL + o % PANEL;
    }

    private void setCode(int o, int i, int code) {
        int at = intIndex(o, i);
        int shift = nibbleShift(o, i);
        packed[at] = (packed[at] & ~(0xF << shift)) | (code << shift);
    }

    /** The E2M1 code of weight {@code (o, i)}. */
    private int code(int o, int i) {
        return (packed[intIndex(o, i)] >>> nibbleShift(o, i)) & 0xF;
    }

    @Override
    public long bytes() {
        return 4L * packed.length + scales.length;
    }

    /** The dequantised weight {@code e2m1 * scale}. */
    @Override
    public float get(int o, int i) {
        return NumberFormats.e2m1ToFloat(code(o, i)) * NumberFormats.e8m0ToFloat(scales[scaleIndex(o, i / BLOCK)]);
    }

    /** The float32 matrix of the dequantised weights, row-major. */
    public float[] dequantized() {
        int k = inFeatures();
        float[] out = new float[outFeatures() * k];
        for (int o = 0; o < outFeatures(); o++) {
            copyRow(o, out, o * k);
        }
        return out;
    }

    /** The codes in the stored form: {@code [out, in / 2]} row-major, input {@code 2b} in the low nibble of byte b. */
    public byte[] packedBytes() {
        int rowBytes = inFeatures() / 2;
        byte[] out = new byte[outFeatures() * rowBytes];
        for (int o = 0; o < outFeatures(); o++) {
            int shift = 4 * ((o % PANEL) / INTS);
            for (int g = 0, at = intIndex(o, 0); g < groups; g++, at += INTS) {
                int codes = packed[at] >>> shift; // codes of inputs 4g .. 4g+3 at bits 0, 8, 16, 24
                out[o * rowBytes + 2 * g] = (byte) ((codes & 0xF) | (codes >>> 4 & 0xF0));
                out[o * rowBytes + 2 * g + 1] = (byte) ((codes >>> 16 & 0xF) | (codes >>> 20 & 0xF0));
            }
        }
        return out;
    }

    /** The E8M0 scales in the stored form: {@code [out, in / 32]} row-major. */
    public byte[] scaleBytes() {
        byte[] out = new byte[outFeatures() * blocks];
        for (int o = 0; o < outFeatures(); o++) {
            for (int b = 0; b < blocks; b++) {
                out[o * blocks + b] = scales[scaleIndex(o, b)];
            }
        }
        return out;
    }

    private static int[] magnitudeBits() {
        int[] bits = new int[8];
        for (int c = 0; c < 8; c++) {
            bits[c] = Float.floatToRawIntBits(NumberFormats.e2m1ToFloat(c));
        }
        return bits;
    }

    /**
     * The 8 E8M0 scale bytes at {@code scales[at..]} as floats, exactly as {@link NumberFormats#e8m0ToFloat}: the
     * byte in the exponent field, then byte 0 to 2^-127 and byte 255 (+infinity so far) to the NaN {@code
     * 0x7FC00000}.
     */
    static FloatVector scales(byte[] scales, int at) {
        IntVector t = ((IntVector) ByteVector.fromArray(B, scales, at).convertShape(B2I, I, 0))
                .lanewise(LSHL, 24)
                .lanewise(LSHR, 1)
                .max(SMALLEST_SCALE_BITS);
        IntVector nan = t.add(1 << 23).lanewise(ASHR, 31).lanewise(AND, 1 << 22);
        return t.lanewise(OR, nan).reinterpretAsFloats();
    }

    // The kernels decode code n of each lane (bits 4n .. 4n+3) in line, as
    //   v.lanewise(LSHR, 4n).lanewise(AND, 7).selectFrom(MAGNITUDES)       the magnitude's float bits
    //       .lanewise(OR, v.lanewise(LSHL, 28 - 4n).lanewise(AND, SIGN))  the sign bit to bit 31 (code 8 is -0.0)
    //       .reinterpretAsFloats().mul(scale)
    // (no shift for n = 0 and for the sign of n = 7). A helper method would be neater, but C2 inlines methods of our
    // own only while the caller's graph is below its node budget, and the Vector API's operations fill it after two
    // or three decodes; a helper left out of line boxes its vectors (over 10x slower). The API's own methods are
    // always inlined.

    /**
     * One 6-row block (with AVX-512, {@link #DIRECT_KERNEL6}): decoding in the loop overlaps the FMAs. From 7 rows
     * the widened panel serves two blocks or more for one decode (at 12 rows both ways run at the same speed).
     */
    @Override
    boolean directWide(int rows) {
        return DIRECT_KERNEL6 && rows <= KERNEL_ROWS;
    }

    /** The 6 rows on the FP4 panel, the accumulators through {@code out} between blocks as in {@link #kernel2}. */
    @Override
    void kernel6Direct(int p, float[] x, int x0, int x1, int x2, int x3, int x4, int x5, float[] out) {
        FloatVector z = FloatVector.zero(F);
        for (int at = 0; at < KERNEL_ROWS * PANEL; at += 8) {
            z.intoArray(out, at);
        }
        for (int b = 0; b < blocks; b++) {
            FloatVector c00 = FloatVector.fromArray(F, out, 0), c01 = FloatVector.fromArray(F, out, 8);
            FloatVector c10 = FloatVector.fromArray(F, out, 16), c11 = FloatVector.fromArray(F, out, 24);
            FloatVector c20 = FloatVector.fromArray(F, out, 32), c21 = FloatVector.fromArray(F, out, 40);
            FloatVector c30 = FloatVector.fromArray(F, out, 48), c31 = FloatVector.fromArray(F, out, 56);
            FloatVector c40 = FloatVector.fromArray(F, out, 64), c41 = FloatVector.fromArray(F, out, 72);
            FloatVector c50 = FloatVector.fromArray(F, out, 80), c51 = FloatVector.fromArray(F, out, 88);
            FloatVector d0 = scales(scales, (p * blocks + b) * PANEL);
            FloatVector d1 = scales(scales, (p * blocks + b) * PANEL + 8);
            int m = b * GROUPS_PER_BLOCK;
            int end = m + GROUPS_PER_BLOCK;
            for (int w = (p * groups + m) * INTS; m < end; m++, w += INTS) {
                IntVector v = IntVector.fromArray(I, packed, w);
                int i = GROUP * m;
                FloatVector lo = v.lanewise(AND, 7)
                        .selectFrom(MAGNITUDES)
                        .lanewise(OR, v.lanewise(LSHL, 28).lanewise(AND, SIGN))
                        .reinterpretAsFloats()
                        .mul(d0);
                FloatVector hi = v.lanewise(LSHR, 4)
                        .lanewise(AND, 7)
                        .selectFrom(MAGNITUDES)
                        .lanewise(OR, v.lanewise(LSHL, 24).lanewise(AND, SIGN))
                        .reinterpretAsFloats()
                        .mul(d1);
                FloatVector e = FloatVector.broadcast(F, x[x0 + i]);
                c00 = lo.fma(e, c00);
                c01 = hi.fma(e, c01);
                e = FloatVector.broadcast(F, x[x1 + i]);
                c10 = lo.fma(e, c10);
                c11 = hi.fma(e, c11);
                e = FloatVector.broadcast(F, x[x2 + i]);
                c20 = lo.fma(e, c20);
                c21 = hi.fma(e, c21);
                e = FloatVector.broadcast(F, x[x3 + i]);
                c30 = lo.fma(e, c30);
                c31 = hi.fma(e, c31);
                e = FloatVector.broadcast(F, x[x4 + i]);
                c40 = lo.fma(e, c40);
                c41 = hi.fma(e, c41);
                e = FloatVector.broadcast(F, x[x5 + i]);
                c50 = lo.fma(e, c50);
                c51 = hi.fma(e, c51);
                lo = v.lanewise(LSHR, 8)
                        .lanewise(AND, 7)
                        .selectFrom(MAGNITUDES)
                        .lanewise(OR, v.lanewise(LSHL, 20).lanewise(AND, SIGN))
                        .reinterpretAsFloats()
                        .mul(d0);
                hi = v.lanewise(LSHR, 12)
                        .lanewise(AND, 7)
                        .selectFrom(MAGNITUDES)
                        .lanewise(OR, v.lanewise(LSHL, 16).lanewise(AND, SIGN))
                        .reinterpretAsFloats()
                        .mul(d1);
                e = FloatVector.broadcast(F, x[x0 + i + 1]);
                c00 = lo.fma(e, c00);
                c01 = hi.fma(e, c01);
                e = FloatVector.broadcast(F, x[x1 + i + 1]);
                c10 = lo.fma(e, c10);
                c11 = hi.fma(e, c11);
                e = FloatVector.broadcast(F, x[x2 + i + 1]);
                c20 = lo.fma(e, c20);
                c21 = hi.fma(e, c21);
                e = FloatVector.broadcast(F, x[x3 + i + 1]);
                c30 = lo.fma(e, c30);
                c31 = hi.fma(e, c31);
                e = FloatVector.broadcast(F, x[x4 + i + 1]);
                c40 = lo.fma(e, c40);
                c41 = hi.fma(e, c41);
                e = FloatVector.broadcast(F, x[x5 + i + 1]);
                c50 = lo.fma(e, c50);
                c51 = hi.fma(e, c51);
                lo = v.lanewise(LSHR, 16)
                        .lanewise(AND, 7)
                        .selectFrom(MAGNITUDES)
                        .lanewise(OR, v.lanewise(LSHL, 12).lanewise(AND, SIGN))
                        .reinterpretAsFloats()
                        .mul(d0);
                hi = v.lanewise(LSHR, 20)
                        .lanewise(AND, 7)
                        .selectFrom(MAGNITUDES)
                        .lanewise(OR, v.lanewise(LSHL, 8).lanewise(AND, SIGN))
                        .reinterpretAsFloats()
                        .mul(d1);
                e = FloatVector.broadcast(F, x[x0 + i + 2]);
                c00 = lo.fma(e, c00);
                c01 = hi.fma(e, c01);
                e = FloatVector.broadcast(F, x[x1 + i + 2]);
                c10 = lo.fma(e, c10);
                c11 = hi.fma(e, c11);
                e = FloatVector.broadcast(F, x[x2 + i + 2]);
                c20 = lo.fma(e, c20);
                c21 = hi.fma(e, c21);
                e = FloatVector.broadcast(F, x[x3 + i + 2]);
                c30 = lo.fma(e, c30);
                c31 = hi.fma(e, c31);
                e = FloatVector.broadcast(F, x[x4 + i + 2]);
                c40 = lo.fma(e, c40);
                c41 = hi.fma(e, c41);
                e = FloatVector.broadcast(F, x[x5 + i + 2]);
                c50 = lo.fma(e, c50);
                c51 = hi.fma(e, c51);
                lo = v.lanewise(LSHR, 24)
                        .lanewise(AND, 7)
                        .selectFrom(MAGNITUDES)
                        .lanewise(OR, v.lanewise(LSHL, 4).lanewise(AND, SIGN))
                        .reinterpretAsFloats()
                        .mul(d0);
                hi = v.lanewise(LSHR, 28)
                        .lanewise(AND, 7)
                        .selectFrom(MAGNITUDES)
                        .lanewise(OR, v.lanewise(AND, SIGN))
                        .reinterpretAsFloats()
                        .mul(d1);
                e = FloatVector.broadcast(F, x[x0 + i + 3]);
                c00 = lo.fma(e, c00);
                c01 = hi.fma(e, c01);
                e = FloatVector.broadcast(F, x[x1 + i + 3]);
                c10 = lo.fma(e, c10);
                c11 = hi.fma(e, c11);
                e = FloatVector.broadcast(F, x[x2 + i + 3]);
                c20 = lo.fma(e, c20);
                c21 = hi.fma(e, c21);
                e = FloatVector.broadcast(F, x[x3 + i + 3]);
                c30 = lo.fma(e, c30);
                c31 = hi.fma(e, c31);
                e = FloatVector.broadcast(F, x[x4 + i + 3]);
                c40 = lo.fma(e, c40);
                c41 = hi.fma(e, c41);
                e = FloatVector.broadcast(F, x[x5 + i + 3]);
                c50 = lo.fma(e, c50);
                c51 = hi.fma(e, c51);
            }
            c00.intoArray(out, 0);
            c01.intoArray(out, 8);
            c10.intoArray(out, 16);
            c11.intoArray(out, 24);
            c20.intoArray(out, 32);
            c21.intoArray(out, 40);
            c30.intoArray(out, 48);
            c31.intoArray(out, 56);
            c40.intoArray(out, 64);
            c41.intoArray(out, 72);
            c50.intoArray(out, 80);
            c51.intoArray(out, 88);
        }
    }

    @Override
    float[] panelFloats(int p, float[] scratch) {
        for (int b = 0; b < blocks; b++) {
            FloatVector d0 = scales(scales, (p * blocks + b) * PANEL);
            FloatVector d1 = scales(scales, (p * blocks + b) * PANEL + 8);
            int m = b * GROUPS_PER_BLOCK;
            int end = m + GROUPS_PER_BLOCK;
            for (int w = (p * groups + m) * INTS; m < end; m++, w += INTS) {
                IntVector v = IntVector.fromArray(I, packed, w);
                int at = GROUP * m * PANEL;
                v.lanewise(AND, 7)
                        .selectFrom(MAGNITUDES)
                        .lanewise(OR, v.lanewise(LSHL, 28).lanewise(AND, SIGN))
                        .reinterpretAsFloats()
                        .mul(d0)
                        .intoArray(scratch, at);
                v.lanewise(LSHR, 4)
                        .lanewise(AND, 7)
                        .selectFrom(MAGNITUDES)
                        .lanewise(OR, v.lanewise(LSHL, 24).lanewise(AND, SIGN))
                        .reinterpretAsFloats()
                        .mul(d1)
                        .intoArray(scratch, at + 8);
                v.lanewise(LSHR, 8)
                        .lanewise(AND, 7)
                        .selectFrom(MAGNITUDES)
                        .lanewise(OR, v.lanewise(LSHL, 20).lanewise(AND, SIGN))
                        .reinterpretAsFloats()
                        .mul(d0)
                        .intoArray(scratch, at + PANEL);
                v.lanewise(LSHR, 12)
                        .lanewise(AND, 7)
                        .selectFrom(MAGNITUDES)
                        .lanewise(OR, v.lanewise(LSHL, 16).lanewise(AND, SIGN))
                        .reinterpretAsFloats()
                        .mul(d1)
                        .intoArray(scratch, at + PANEL + 8);
                v.lanewise(LSHR, 16)
                        .lanewise(AND, 7)
                        .selectFrom(MAGNITUDES)
                        .lanewise(OR, v.lanewise(LSHL, 12).lanewise(AND, SIGN))
                        .reinterpretAsFloats()
                        .mul(d0)
                        .intoArray(scratch, at + 2 * PANEL);
                v.lanewise(LSHR, 20)
                        .lanewise(AND, 7)
                        .selectFrom(MAGNITUDES)
                        .lanewise(OR, v.lanewise(LSHL, 8).lanewise(AND, SIGN))
                        .reinterpretAsFloats()
                        .mul(d1)
                        .intoArray(scratch, at + 2 * PANEL + 8);
                v.lanewise(LSHR, 24)
                        .lanewise(AND, 7)
                        .selectFrom(MAGNITUDES)
                        .lanewise(OR, v.lanewise(LSHL, 4).lanewise(AND, SIGN))
                        .reinterpretAsFloats()
                        .mul(d0)
                        .intoArray(scratch, at + 3 * PANEL);
                v.lanewise(LSHR, 28)
                        .lanewise(AND, 7)
                        .selectFrom(MAGNITUDES)
                        .lanewise(OR, v.lanewise(AND, SIGN))
                        .reinterpretAsFloats()
                        .mul(d1)
                        .intoArray(scratch, at + 3 * PANEL + 8);
            }
        }
        return scratch;
    }

    /**
     * Two rows, one panel at a time, the panel's 16 scales in registers for each block. The accumulators go through
     * {@code out} between blocks: carried across two nested loops, JDK 17's C2 boxes them.
     */
    @Override
    void kernel2(int p, int q, float[] x, int xa, int xb, float[] out) {
        for (int s = 0; s < 2; s++) {
            int panel = s == 0 ? p : q;
            if (s == 1 && q == p) {
                break;
            }
            int ra = s * PANEL;
            int rb = 2 * PANEL + s * PANEL;
            FloatVector z = FloatVector.zero(F);
            z.intoArray(out, ra);
            z.intoArray(out, ra + 8);
            z.intoArray(out, rb);
            z.intoArray(out, rb + 8);
            for (int b = 0; b < blocks; b++) {
                FloatVector a0 = FloatVector.fromArray(F, out, ra);
                FloatVector a1 = FloatVector.fromArray(F, out, ra + 8);
                FloatVector b0 = FloatVector.fromArray(F, out, rb);
                FloatVector b1 = FloatVector.fromArray(F, out, rb + 8);
                FloatVector d0 = scales(scales, (panel * blocks + b) * PANEL);
                FloatVector d1 = scales(scales, (panel * blocks + b) * PANEL + 8);
                int m = b * GROUPS_PER_BLOCK;
                int end = m + GROUPS_PER_BLOCK;
                for (int w = (panel * groups + m) * INTS; m < end; m++, w += INTS) {
                    IntVector v = IntVector.fromArray(I, packed, w);
                    int i = GROUP * m;
                    FloatVector ea = FloatVector.broadcast(F, x[xa + i]);
                    FloatVector eb = FloatVector.broadcast(F, x[xb + i]);
                    FloatVector wt = v.lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, v.lanewise(LSHL, 28).lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(d0);
                    a0 = wt.fma(ea, a0);
                    b0 = wt.fma(eb, b0);
                    wt = v.lanewise(LSHR, 4)
                            .lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, v.lanewise(LSHL, 24).lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(d1);
                    a1 = wt.fma(ea, a1);
                    b1 = wt.fma(eb, b1);
                    ea = FloatVector.broadcast(F, x[xa + i + 1]);
                    eb = FloatVector.broadcast(F, x[xb + i + 1]);
                    wt = v.lanewise(LSHR, 8)
                            .lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, v.lanewise(LSHL, 20).lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(d0);
                    a0 = wt.fma(ea, a0);
                    b0 = wt.fma(eb, b0);
                    wt = v.lanewise(LSHR, 12)
                            .lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, v.lanewise(LSHL, 16).lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(d1);
                    a1 = wt.fma(ea, a1);
                    b1 = wt.fma(eb, b1);
                    ea = FloatVector.broadcast(F, x[xa + i + 2]);
                    eb = FloatVector.broadcast(F, x[xb + i + 2]);
                    wt = v.lanewise(LSHR, 16)
                            .lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, v.lanewise(LSHL, 12).lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(d0);
                    a0 = wt.fma(ea, a0);
                    b0 = wt.fma(eb, b0);
                    wt = v.lanewise(LSHR, 20)
                            .lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, v.lanewise(LSHL, 8).lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(d1);
                    a1 = wt.fma(ea, a1);
                    b1 = wt.fma(eb, b1);
                    ea = FloatVector.broadcast(F, x[xa + i + 3]);
                    eb = FloatVector.broadcast(F, x[xb + i + 3]);
                    wt = v.lanewise(LSHR, 24)
                            .lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, v.lanewise(LSHL, 4).lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(d0);
                    a0 = wt.fma(ea, a0);
                    b0 = wt.fma(eb, b0);
                    wt = v.lanewise(LSHR, 28)
                            .lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, v.lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(d1);
                    a1 = wt.fma(ea, a1);
                    b1 = wt.fma(eb, b1);
                }
                a0.intoArray(out, ra);
                a1.intoArray(out, ra + 8);
                b0.intoArray(out, rb);
                b1.intoArray(out, rb + 8);
            }
        }
    }

    /**
     * Four panels as two passes of two (4 accumulators, 4 scale vectors and 2 code streams in registers), the
     * accumulators through {@code out} between blocks as in {@link #kernel2}; a pass whose panels repeat the last
     * one is skipped.
     */
    @Override
    void kernel1(int p0, int p1, int p2, int p3, float[] x, int xa, float[] out) {
        for (int half = 0; half < 2; half++) {
            int p = half == 0 ? p0 : p2;
            int q = half == 0 ? p1 : p3;
            if (half == 1 && p == p1) {
                break;
            }
            int at = half * 2 * PANEL;
            FloatVector z = FloatVector.zero(F);
            z.intoArray(out, at);
            z.intoArray(out, at + 8);
            z.intoArray(out, at + 16);
            z.intoArray(out, at + 24);
            for (int b = 0; b < blocks; b++) {
                FloatVector a0 = FloatVector.fromArray(F, out, at);
                FloatVector a1 = FloatVector.fromArray(F, out, at + 8);
                FloatVector a2 = FloatVector.fromArray(F, out, at + 16);
                FloatVector a3 = FloatVector.fromArray(F, out, at + 24);
                FloatVector dp0 = scales(scales, (p * blocks + b) * PANEL);
                FloatVector dp1 = scales(scales, (p * blocks + b) * PANEL + 8);
                FloatVector dq0 = scales(scales, (q * blocks + b) * PANEL);
                FloatVector dq1 = scales(scales, (q * blocks + b) * PANEL + 8);
                int m = b * GROUPS_PER_BLOCK;
                int end = m + GROUPS_PER_BLOCK;
                for (int wp = (p * groups + m) * INTS, wq = (q * groups + m) * INTS;
                        m < end;
                        m++, wp += INTS, wq += INTS) {
                    IntVector vp = IntVector.fromArray(I, packed, wp);
                    IntVector vq = IntVector.fromArray(I, packed, wq);
                    int i = xa + GROUP * m;
                    FloatVector e = FloatVector.broadcast(F, x[i]);
                    a0 = vp.lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, vp.lanewise(LSHL, 28).lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(dp0)
                            .fma(e, a0);
                    a1 = vp.lanewise(LSHR, 4)
                            .lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, vp.lanewise(LSHL, 24).lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(dp1)
                            .fma(e, a1);
                    a2 = vq.lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, vq.lanewise(LSHL, 28).lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(dq0)
                            .fma(e, a2);
                    a3 = vq.lanewise(LSHR, 4)
                            .lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, vq.lanewise(LSHL, 24).lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(dq1)
                            .fma(e, a3);
                    e = FloatVector.broadcast(F, x[i + 1]);
                    a0 = vp.lanewise(LSHR, 8)
                            .lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, vp.lanewise(LSHL, 20).lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(dp0)
                            .fma(e, a0);
                    a1 = vp.lanewise(LSHR, 12)
                            .lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, vp.lanewise(LSHL, 16).lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(dp1)
                            .fma(e, a1);
                    a2 = vq.lanewise(LSHR, 8)
                            .lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, vq.lanewise(LSHL, 20).lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(dq0)
                            .fma(e, a2);
                    a3 = vq.lanewise(LSHR, 12)
                            .lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, vq.lanewise(LSHL, 16).lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(dq1)
                            .fma(e, a3);
                    e = FloatVector.broadcast(F, x[i + 2]);
                    a0 = vp.lanewise(LSHR, 16)
                            .lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, vp.lanewise(LSHL, 12).lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(dp0)
                            .fma(e, a0);
                    a1 = vp.lanewise(LSHR, 20)
                            .lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, vp.lanewise(LSHL, 8).lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(dp1)
                            .fma(e, a1);
                    a2 = vq.lanewise(LSHR, 16)
                            .lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, vq.lanewise(LSHL, 12).lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(dq0)
                            .fma(e, a2);
                    a3 = vq.lanewise(LSHR, 20)
                            .lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, vq.lanewise(LSHL, 8).lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(dq1)
                            .fma(e, a3);
                    e = FloatVector.broadcast(F, x[i + 3]);
                    a0 = vp.lanewise(LSHR, 24)
                            .lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, vp.lanewise(LSHL, 4).lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(dp0)
                            .fma(e, a0);
                    a1 = vp.lanewise(LSHR, 28)
                            .lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, vp.lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(dp1)
                            .fma(e, a1);
                    a2 = vq.lanewise(LSHR, 24)
                            .lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, vq.lanewise(LSHL, 4).lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(dq0)
                            .fma(e, a2);
                    a3 = vq.lanewise(LSHR, 28)
                            .lanewise(AND, 7)
                            .selectFrom(MAGNITUDES)
                            .lanewise(OR, vq.lanewise(AND, SIGN))
                            .reinterpretAsFloats()
                            .mul(dq1)
                            .fma(e, a3);
                }
                a0.intoArray(out, at);
                a1.intoArray(out, at + 8);
                a2.intoArray(out, at + 16);
                a3.intoArray(out, at + 24);
            }
        }
    }
}
