package io.moestream.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * An 8-bit weight matrix quantised on load, as llama.cpp's q8_0: each row in blocks of 32 weights along the input,
 * each block one float32 scale {@code d = max|w| / 127} and 32 signed bytes {@code q = round(w / d)}; the weight is
 * {@code q * d}, computed in float32 before the FMA, so the result is bitwise that of the float32 matrix of the
 * dequantised weights ({@link #dequantized}).
 *
 * <p><b>Layout.</b> Panels of 16 output rows ({@link Linear}), each a run of 8 ints per pair of inputs {@code (2m,
 * 2m+1)}: byte {@code b} of int {@code l} is the quant of weight {@code (16p + l + 8(b & 1), 2m + (b >> 1))}. One
 * 32-byte load gives 32 quants; one or two shifts extract 8 of them sign-extended ({@code (v << 8(3-b)) >> 24}),
 * ready to convert. For each block the 16 outputs' scales are side by side, and the kernels keep them in registers
 * for the block's 32 inputs.
 */
public final class Q8Linear extends Linear {
    static final int BLOCK = 32;
    private static final int PAIRS_PER_BLOCK = BLOCK / 2;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F = Kernels.F;
    private static final int INTS = PANEL / 2;

    /** Pairs of inputs, the last one padded with zero quants when the input count is odd. */
    private final int pairs;

    private final int blocks;
    private final int[] packed;
    private final float[] scales;

    private Q8Linear(int outFeatures, int inFeatures) {
        super(outFeatures, inFeatures);
        this.pairs = (inFeatures + 1) / 2;
        this.blocks = (inFeatures + BLOCK - 1) / BLOCK;
        this.packed = new int[Math.multiplyExact(panels * INTS, pairs)];
        this.scales = new float[Math.multiplyExact(panels * PANEL, blocks)];
    }

    /** Quantises the row-major {@code [outFeatures, inFeatures]} float32 matrix {@code weight}. */
    public static Q8Linear quantize(float[] weight, int outFeatures, int inFeatures) {
        if (weight.length != (long) outFeatures * inFeatures) {
            throw new IllegalArgumentException(
                    "weight has " + weight.length + " elements, expected " + outFeatures + "x" + inFeatures);
        }
        Q8Linear m = new Q8Linear(outFeatures, inFeatures);
        for (int o = 0; o < outFeatures; o++) {
            for (int b = 0; b < m.blocks; b++) {
                int from = o * inFeatures + b * BLOCK;
                int n = Math.min(BLOCK, inFeatures - b * BLOCK);
                float amax = 0;
                for (int i = 0; i < n; i++) {
                    amax = Math.max(amax, Math.abs(weight[from + i]));
                }
                float d = amax / 127;
                float id = d != 0 ? 1 / d : 0;
                m.scales[m.scaleIndex(o, b)] = d;
                for (int i = 0; i < n; i++) {
                    int q = Math.round(weight[from + i] * id);
                    int at = m.intIndex(o, b * BLOCK + i);
                    m.packed[at] |= (q & 0xFF) << m.byteShift(o, b * BLOCK + i);
                }
            }
        }
        return m;
    }

    private int intIndex(int o, int i) {
        return (o / PANEL * pairs + i / 2) * INTS + o % INTS;
    }

    private static int byteShift(int o, int i) {
        return 8 * ((o % PANEL) / INTS + 2 * (i % 2));
    }

    private int scaleIndex(int o, int block) {
        return (o / PANEL * blocks + block) * PANEL + o % PANEL;
    }

    /** The quant of weight {@code (o, i)}. */
    private int quant(int o, int i) {
        return packed[intIndex(o, i)] << (24 - byteShift(o, i)) >> 24;
    }

    @Override
    public long bytes() {
        return 4L * packed.length + 4L * scales.length;
    }

    /** The dequantised weight {@code q * d}. */
    @Override
    public float get(int o, int i) {
        return quant(o, i) * scales[scaleIndex(o, i / BLOCK)];
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

    // The quants of byte b of each int, as floats: outputs 0-7 of input 2m (b = 0), outputs 8-15 of 2m (1), outputs
    // 0-7 of 2m+1 (2), outputs 8-15 of 2m+1 (3).

    private static FloatVector q0(IntVector v) {
        return (FloatVector) v.lanewise(VectorOperators.LSHL, 24)
                .lanewise(VectorOperators.ASHR, 24)
                .convert(VectorOperators.I2F, 0);
    }

    private static FloatVector q1(IntVector v) {
        return (FloatVector) v.lanewise(VectorOperators.LSHL, 16)
                .lanewise(VectorOperators.ASHR, 24)
                .convert(VectorOperators.I2F, 0);
    }

    private static FloatVector q2(IntVector v) {
        return (FloatVector) v.lanewise(VectorOperators.LSHL, 8)
                .lanewise(VectorOperators.ASHR, 24)
                .convert(VectorOperators.I2F, 0);
    }

    private static FloatVector q3(IntVector v) {
        return (FloatVector) v.lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0);
    }

    @Override
    float[] panelFloats(int p, float[] scratch) {
        int k = inFeatures();
        for (int b = 0; b < blocks; b++) {
            FloatVector d0 = FloatVector.fromArray(F, scales, (p * blocks + b) * PANEL);
            FloatVector d1 = FloatVector.fromArray(F, scales, (p * blocks + b) * PANEL + 8);
            for (int m = b * PAIRS_PER_BLOCK, end = Math.min(pairs, m + PAIRS_PER_BLOCK); m < end; m++) {
                IntVector v = IntVector.fromArray(I, packed, (p * pairs + m) * INTS);
                q0(v).mul(d0).intoArray(scratch, 2 * m * PANEL);
                q1(v).mul(d1).intoArray(scratch, 2 * m * PANEL + 8);
                if (2 * m + 1 < k) {
                    q2(v).mul(d0).intoArray(scratch, (2 * m + 1) * PANEL);
                    q3(v).mul(d1).intoArray(scratch, (2 * m + 1) * PANEL + 8);
                }
            }
        }
        return scratch;
    }

    /** Two rows, one panel at a time, the panel's 16 scales in registers for each block. */
    @Override
    void kernel2(int p, int q, float[] x, int xa, int xb, float[] out) {
        int fullPairs = inFeatures() / 2;
        for (int s = 0; s < 2; s++) {
            int panel = s == 0 ? p : q;
            FloatVector z = FloatVector.zero(F);
            FloatVector a0 = z, a1 = z, b0 = z, b1 = z;
            for (int b = 0; b < blocks; b++) {
                FloatVector d0 = FloatVector.fromArray(F, scales, (panel * blocks + b) * PANEL);
                FloatVector d1 = FloatVector.fromArray(F, scales, (panel * blocks + b) * PANEL + 8);
                int m = b * PAIRS_PER_BLOCK;
                int end = Math.min(pairs, m + PAIRS_PER_BLOCK);
                for (int w = (panel * pairs + m) * INTS; m < end; m++, w += INTS) {
                    IntVector v = IntVector.fromArray(I, packed, w);
                    FloatVector ea = FloatVector.broadcast(F, x[xa + 2 * m]);
                    FloatVector eb = FloatVector.broadcast(F, x[xb + 2 * m]);
                    FloatVector wt = q0(v).mul(d0);
                    a0 = wt.fma(ea, a0);
                    b0 = wt.fma(eb, b0);
                    wt = q1(v).mul(d1);
                    a1 = wt.fma(ea, a1);
                    b1 = wt.fma(eb, b1);
                    if (m < fullPairs) { // else the odd last input's pair is padding
                        FloatVector oa = FloatVector.broadcast(F, x[xa + 2 * m + 1]);
                        FloatVector ob = FloatVector.broadcast(F, x[xb + 2 * m + 1]);
                        wt = q2(v).mul(d0);
                        a0 = wt.fma(oa, a0);
                        b0 = wt.fma(ob, b0);
                        wt = q3(v).mul(d1);
                        a1 = wt.fma(oa, a1);
                        b1 = wt.fma(ob, b1);
                    }
                }
            }
            a0.intoArray(out, s * PANEL);
            a1.intoArray(out, s * PANEL + 8);
            b0.intoArray(out, 2 * PANEL + s * PANEL);
            b1.intoArray(out, 2 * PANEL + s * PANEL + 8);
        }
    }

    /**
     * Four panels as two passes of two (4 accumulators, 4 scale vectors and 2 weight streams in registers): a 4-panel
     * body exceeds C2's inlining node budget, which leaves vector operations boxed.
     */
    @Override
    void kernel1(int p0, int p1, int p2, int p3, float[] x, int xa, float[] out) {
        int fullPairs = inFeatures() / 2;
        for (int half = 0; half < 2; half++) {
            int p = half == 0 ? p0 : p2;
            int q = half == 0 ? p1 : p3;
            FloatVector z = FloatVector.zero(F);
            FloatVector a0 = z, a1 = z, a2 = z, a3 = z;
            for (int b = 0; b < blocks; b++) {
                int dp = (p * blocks + b) * PANEL;
                int dq = (q * blocks + b) * PANEL;
                FloatVector dp0 = FloatVector.fromArray(F, scales, dp);
                FloatVector dp1 = FloatVector.fromArray(F, scales, dp + 8);
                FloatVector dq0 = FloatVector.fromArray(F, scales, dq);
                FloatVector dq1 = FloatVector.fromArray(F, scales, dq + 8);
                int m = b * PAIRS_PER_BLOCK;
                int end = Math.min(pairs, m + PAIRS_PER_BLOCK);
                for (int wp = (p * pairs + m) * INTS, wq = (q * pairs + m) * INTS;
                        m < end;
                        m++, wp += INTS, wq += INTS) {
                    IntVector vp = IntVector.fromArray(I, packed, wp);
                    IntVector vq = IntVector.fromArray(I, packed, wq);
                    FloatVector e = FloatVector.broadcast(F, x[xa + 2 * m]);
                    a0 = q0(vp).mul(dp0).fma(e, a0);
                    a1 = q1(vp).mul(dp1).fma(e, a1);
                    a2 = q0(vq).mul(dq0).fma(e, a2);
                    a3 = q1(vq).mul(dq1).fma(e, a3);
                    if (m < fullPairs) { // else the odd last input's pair is padding
                        FloatVector o = FloatVector.broadcast(F, x[xa + 2 * m + 1]);
                        a0 = q2(vp).mul(dp0).fma(o, a0);
                        a1 = q3(vp).mul(dp1).fma(o, a1);
                        a2 = q2(vq).mul(dq0).fma(o, a2);
                        a3 = q3(vq).mul(dq1).fma(o, a3);
                    }
                }
            }
            int at = half * 2 * PANEL;
            a0.intoArray(out, at);
            a1.intoArray(out, at + 8);
            a2.intoArray(out, at + 16);
            a3.intoArray(out, at + 24);
        }
    }
}
