package io.moestream.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A float32 weight matrix, packed once into panels of 16 output rows, input-major ({@link Linear}): float {@code
 * base(p) + 16i + j} is weight {@code (16p + j, i)}.
 */
public final class F32Linear extends Linear {
    private static final VectorSpecies<Float> F = Kernels.F;

    private final float[] packed;

    /** Packs {@code weight}, a row-major {@code [outFeatures, inFeatures]} matrix (not kept). */
    public F32Linear(float[] weight, int outFeatures, int inFeatures) {
        super(outFeatures, inFeatures);
        if (weight.length != (long) outFeatures * inFeatures) {
            throw new IllegalArgumentException(
                    "weight has " + weight.length + " elements, expected " + outFeatures + "x" + inFeatures);
        }
        this.packed = new float[Math.multiplyExact(panels * PANEL, inFeatures)];
        for (int o = 0; o < outFeatures; o++) {
            int base = (o / PANEL) * PANEL * inFeatures + o % PANEL;
            for (int i = 0; i < inFeatures; i++) {
                packed[base + i * PANEL] = weight[o * inFeatures + i];
            }
        }
    }

    @Override
    public long bytes() {
        return 4L * packed.length;
    }

    @Override
    public float get(int o, int i) {
        return packed[(o / PANEL) * PANEL * inFeatures() + i * PANEL + o % PANEL];
    }

    @Override
    float[] panelFloats(int p, float[] scratch) {
        return packed;
    }

    @Override
    int panelOffset(int p) {
        return p * PANEL * inFeatures();
    }

    /**
     * The float32 panel at {@code packed[w..]} ({@code k} inputs) times the 6 activation rows at {@code x[x0..]} ..
     * {@code x[x5..]}: {@code out[r * 16 + j]} is output {@code j} of the panel for row {@code r}.
     */
    static void kernel6(
            float[] packed, int w, int k, float[] x, int x0, int x1, int x2, int x3, int x4, int x5, float[] out) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z;
        FloatVector c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
        for (int i = 0; i < k; i++, w += PANEL) {
            FloatVector lo = FloatVector.fromArray(F, packed, w);
            FloatVector hi = FloatVector.fromArray(F, packed, w + 8);
            FloatVector b = FloatVector.broadcast(F, x[x0 + i]);
            c00 = lo.fma(b, c00);
            c01 = hi.fma(b, c01);
            b = FloatVector.broadcast(F, x[x1 + i]);
            c10 = lo.fma(b, c10);
            c11 = hi.fma(b, c11);
            b = FloatVector.broadcast(F, x[x2 + i]);
            c20 = lo.fma(b, c20);
            c21 = hi.fma(b, c21);
            b = FloatVector.broadcast(F, x[x3 + i]);
            c30 = lo.fma(b, c30);
            c31 = hi.fma(b, c31);
            b = FloatVector.broadcast(F, x[x4 + i]);
            c40 = lo.fma(b, c40);
            c41 = hi.fma(b, c41);
            b = FloatVector.broadcast(F, x[x5 + i]);
            c50 = lo.fma(b, c50);
            c51 = hi.fma(b, c51);
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

    @Override
    void kernel2(int p, int q, float[] x, int xa, int xb, float[] out) {
        int k = inFeatures();
        int wp = p * PANEL * k;
        int wq = q * PANEL * k;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
        for (int i = 0; i < k; i++, wp += PANEL, wq += PANEL) {
            FloatVector p0 = FloatVector.fromArray(F, packed, wp);
            FloatVector p1 = FloatVector.fromArray(F, packed, wp + 8);
            FloatVector q0 = FloatVector.fromArray(F, packed, wq);
            FloatVector q1 = FloatVector.fromArray(F, packed, wq + 8);
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
            FloatVector va = FloatVector.broadcast(F, x[xa + i]);
            a0 = FloatVector.fromArray(F, packed, w0).fma(va, a0);
            a1 = FloatVector.fromArray(F, packed, w0 + 8).fma(va, a1);
            a2 = FloatVector.fromArray(F, packed, w1).fma(va, a2);
            a3 = FloatVector.fromArray(F, packed, w1 + 8).fma(va, a3);
            a4 = FloatVector.fromArray(F, packed, w2).fma(va, a4);
            a5 = FloatVector.fromArray(F, packed, w2 + 8).fma(va, a5);
            a6 = FloatVector.fromArray(F, packed, w3).fma(va, a6);
            a7 = FloatVector.fromArray(F, packed, w3 + 8).fma(va, a7);
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
