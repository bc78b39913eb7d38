package io.moestream.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A bfloat16 weight matrix kept in 2 bytes per weight (half the memory traffic of float32), packed once into panels
 * of 16 output rows, input-major ({@link Linear}): int {@code base(p) + 8i + j} holds weight {@code (16p + j, i)} in
 * its low half and weight {@code (16p + 8 + j, i)} in its high half. A bfloat16 is the top half of a float32, so
 * {@code int << 16} gives the panel's first 8 weights of column {@code i} as floats and {@code int & 0xFFFF0000} the
 * other 8, exactly: one 32-byte load and two integer operations per 16 weights.
 */
public final class Bf16Linear extends Linear {
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F = Kernels.F;
    private static final int HIGH_HALF = 0xFFFF0000;
    private static final int INTS = PANEL / 2;
    private static final boolean DIRECT_KERNEL6 = Runtime.version().feature() >= 25;

    private final int[] packed;

    /** Packs {@code weight}, the raw bfloat16 bits of a row-major {@code [outFeatures, inFeatures]} matrix. */
    public Bf16Linear(short[] weight, int outFeatures, int inFeatures) {
        super(outFeatures, inFeatures);
        if (weight.length != (long) outFeatures * inFeatures) {
            throw new IllegalArgumentException(
                    "weight has " + weight.length + " elements, expected " + outFeatures + "x" + inFeatures);
        }
        this.packed = new int[Math.multiplyExact(panels * INTS, inFeatures)];
        for (int o = 0; o < outFeatures; o++) {
            int j = o % PANEL;
            int base = (o / PANEL) * INTS * inFeatures + j % INTS;
            int shift = j < INTS ? 0 : 16;
            for (int i = 0; i < inFeatures; i++) {
                packed[base + i * INTS] |= (weight[o * inFeatures + i] & 0xFFFF) << shift;
            }
        }
    }

    @Override
    public long bytes() {
        return 4L * packed.length;
    }

    @Override
    public float get(int o, int i) {
        int j = o % PANEL;
        int bits = packed[(o / PANEL) * INTS * inFeatures() + i * INTS + j % INTS];
        return Float.intBitsToFloat(j < INTS ? bits << 16 : bits & HIGH_HALF);
    }

    private static FloatVector low(IntVector v) {
        return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector high(IntVector v) {
        return v.lanewise(VectorOperators.AND, HIGH_HALF).reinterpretAsFloats();
    }

    /**
     * Up to two 6-row blocks per chunk run on the bf16 panel directly: widening a panel costs about 0.6 of a block's
     * FMAs. Only from JDK 25, whose C2 keeps the 12 accumulators in registers with the widening in the loop (78 vs 60
     * GFLOP/s for widen-then-float32, one thread); JDK 17's spills them (38 vs 53).
     */
    @Override
    boolean directWide(int rows) {
        return DIRECT_KERNEL6 && rows <= 2 * KERNEL_ROWS;
    }

    @Override
    void kernel6Direct(int p, float[] x, int x0, int x1, int x2, int x3, int x4, int x5, float[] out) {
        int k = inFeatures();
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z;
        FloatVector c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
        for (int i = 0, w = p * INTS * k; i < k; i++, w += INTS) {
            IntVector v = IntVector.fromArray(I, packed, w);
            FloatVector lo = low(v);
            FloatVector hi = high(v);
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
    float[] panelFloats(int p, float[] scratch) {
        int k = inFeatures();
        for (int i = 0, w = p * INTS * k; i < k; i++, w += INTS) {
            IntVector v = IntVector.fromArray(I, packed, w);
            low(v).intoArray(scratch, PANEL * i);
            high(v).intoArray(scratch, PANEL * i + 8);
        }
        return scratch;
    }

    @Override
    void kernel2(int p, int q, float[] x, int xa, int xb, float[] out) {
        int k = inFeatures();
        int wp = p * INTS * k;
        int wq = q * INTS * k;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
        for (int i = 0; i < k; i++, wp += INTS, wq += INTS) {
            IntVector vp = IntVector.fromArray(I, packed, wp);
            IntVector vq = IntVector.fromArray(I, packed, wq);
            FloatVector p0 = low(vp);
            FloatVector p1 = high(vp);
            FloatVector q0 = low(vq);
            FloatVector q1 = high(vq);
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
        int w0 = p0 * INTS * k, w1 = p1 * INTS * k, w2 = p2 * INTS * k, w3 = p3 * INTS * k;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
        for (int i = 0; i < k; i++, w0 += INTS, w1 += INTS, w2 += INTS, w3 += INTS) {
            FloatVector va = FloatVector.broadcast(F, x[xa + i]);
            IntVector v0 = IntVector.fromArray(I, packed, w0);
            a0 = low(v0).fma(va, a0);
            a1 = high(v0).fma(va, a1);
            IntVector v1 = IntVector.fromArray(I, packed, w1);
            a2 = low(v1).fma(va, a2);
            a3 = high(v1).fma(va, a3);
            IntVector v2 = IntVector.fromArray(I, packed, w2);
            a4 = low(v2).fma(va, a4);
            a5 = high(v2).fma(va, a5);
            IntVector v3 = IntVector.fromArray(I, packed, w3);
            a6 = low(v3).fma(va, a6);
            a7 = high(v3).fma(va, a7);
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
