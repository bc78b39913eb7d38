package io.moestream.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * An 8-bit weight matrix quantised on load, as llama.cpp's q8_0: each row in blocks of 32 weights along the input,
 * each block one float32 scale {@code d = max|w| / 127} and 32 signed bytes {@code q = round(w / d)}; the weight is
 * {@code q * d}, computed in float32 before the FMA, so the result is bitwise that of the float32 matrix of the
 * dequantised weights ({@link #dequantized}).
 *
 * <p>Packed in panels of 16 output rows, input-major ({@link Linear}): byte {@code 16(pk + i) + j} is the quant of
 * weight {@code (16p + j, i)}, and for each block the 16 outputs' scales are side by side. 8 quants load and
 * sign-extend in one instruction ({@code vpmovsxbd}), then convert, scale and FMA.
 */
public final class Q8Linear extends Linear {
    static final int BLOCK = 32;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_64;
    private static final VectorSpecies<Float> F = Kernels.F;

    private final byte[] quants;
    private final float[] scales;
    private final int blocks;

    private Q8Linear(int outFeatures, int inFeatures) {
        super(outFeatures, inFeatures);
        this.blocks = (inFeatures + BLOCK - 1) / BLOCK;
        this.quants = new byte[Math.multiplyExact(panels * PANEL, inFeatures)];
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
            int p = o / PANEL;
            int j = o % PANEL;
            for (int b = 0; b < m.blocks; b++) {
                int from = o * inFeatures + b * BLOCK;
                int n = Math.min(BLOCK, inFeatures - b * BLOCK);
                float amax = 0;
                for (int i = 0; i < n; i++) {
                    amax = Math.max(amax, Math.abs(weight[from + i]));
                }
                float d = amax / 127;
                float id = d != 0 ? 1 / d : 0;
                m.scales[(p * m.blocks + b) * PANEL + j] = d;
                for (int i = 0; i < n; i++) {
                    m.quants[(p * inFeatures + b * BLOCK + i) * PANEL + j] = (byte) Math.round(weight[from + i] * id);
                }
            }
        }
        return m;
    }

    @Override
    public long bytes() {
        return quants.length + 4L * scales.length;
    }

    @Override
    public float get(int o, int i) {
        int p = o / PANEL;
        int j = o % PANEL;
        return quants[(p * inFeatures() + i) * PANEL + j] * scales[(p * blocks + i / BLOCK) * PANEL + j];
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

    /** 8 weights {@code q * d}: the quants at {@code quants[at..at+8)} and their scales {@code d}. */
    private FloatVector weights(int at, FloatVector d) {
        return ((FloatVector) ByteVector.fromArray(B, quants, at).castShape(F, 0)).mul(d);
    }

    @Override
    float[] panelFloats(int p, float[] scratch) {
        int k = inFeatures();
        for (int i = 0, q = p * k * PANEL; i < k; i++, q += PANEL) {
            int d = (p * blocks + i / BLOCK) * PANEL;
            weights(q, FloatVector.fromArray(F, scales, d)).intoArray(scratch, PANEL * i);
            weights(q + 8, FloatVector.fromArray(F, scales, d + 8)).intoArray(scratch, PANEL * i + 8);
        }
        return scratch;
    }

    @Override
    void kernel2(int p, int q, float[] x, int xa, int xb, float[] out) {
        int k = inFeatures();
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
        for (int i = 0, qp = p * k * PANEL, qq = q * k * PANEL; i < k; i++, qp += PANEL, qq += PANEL) {
            int dp = (p * blocks + i / BLOCK) * PANEL;
            int dq = (q * blocks + i / BLOCK) * PANEL;
            FloatVector p0 = weights(qp, FloatVector.fromArray(F, scales, dp));
            FloatVector p1 = weights(qp + 8, FloatVector.fromArray(F, scales, dp + 8));
            FloatVector q0 = weights(qq, FloatVector.fromArray(F, scales, dq));
            FloatVector q1 = weights(qq + 8, FloatVector.fromArray(F, scales, dq + 8));
            FloatVector va = FloatVector.broadcast(F, x[xa + i]);
            FloatVector vb = FloatVector.broadcast(F, x[xb + i]);
            a0 = p0.fma(va, a0);
            a1 = p1.fma(va, a1);
            a2 = q0.fma(va, a2);
            a3 = q1.fma(va, a3);
            b0 = p0.fma(vb, b0);
            b1 = p1.fma(vb, b1);
            b2 = q0.fma(vb, b2);
            b3 = q1.fma(vb, b3);
        }
        a0.intoArray(out, 0);
        a1.intoArray(out, 8);
        a2.intoArray(out, 16);
        a3.intoArray(out, 24);
        b0.intoArray(out, 32);
        b1.intoArray(out, 40);
        b2.intoArray(out, 48);
        b3.intoArray(out, 56);
    }

    @Override
    void kernel1(int p0, int p1, int p2, int p3, float[] x, int xa, float[] out) {
        int k = inFeatures();
        int w0 = p0 * PANEL * k, w1 = p1 * PANEL * k, w2 = p2 * PANEL * k, w3 = p3 * PANEL * k;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
        for (int i = 0; i < k; i++, w0 += PANEL, w1 += PANEL, w2 += PANEL, w3 += PANEL) {
            int block = i / BLOCK;
            int d0 = (p0 * blocks + block) * PANEL, d1 = (p1 * blocks + block) * PANEL;
            int d2 = (p2 * blocks + block) * PANEL, d3 = (p3 * blocks + block) * PANEL;
            FloatVector va = FloatVector.broadcast(F, x[xa + i]);
            a0 = weights(w0, FloatVector.fromArray(F, scales, d0)).fma(va, a0);
            a1 = weights(w0 + 8, FloatVector.fromArray(F, scales, d0 + 8)).fma(va, a1);
            a2 = weights(w1, FloatVector.fromArray(F, scales, d1)).fma(va, a2);
            a3 = weights(w1 + 8, FloatVector.fromArray(F, scales, d1 + 8)).fma(va, a3);
            a4 = weights(w2, FloatVector.fromArray(F, scales, d2)).fma(va, a4);
            a5 = weights(w2 + 8, FloatVector.fromArray(F, scales, d2 + 8)).fma(va, a5);
            a6 = weights(w3, FloatVector.fromArray(F, scales, d3)).fma(va, a6);
            a7 = weights(w3 + 8, FloatVector.fromArray(F, scales, d3 + 8)).fma(va, a7);
        }
        a0.intoArray(out, 0);
        a1.intoArray(out, 8);
        a2.intoArray(out, 16);
        a3.intoArray(out, 24);
        a4.intoArray(out, 32);
        a5.intoArray(out, 40);
        a6.intoArray(out, 48);
        a7.intoArray(out, 56);
    }
}
