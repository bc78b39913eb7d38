package io.moestream.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A bfloat16 weight matrix kept in 2 bytes per weight (half the memory traffic of float32), packed once at load so
 * that the kernel widens it with one shift or one mask per 8 weights: each row is a run of 16-weight chunks, and int
 * {@code j} of chunk {@code c} holds weight {@code 16c + j} in its low half and weight {@code 16c + 8 + j} in its high
 * half. A bfloat16 is the top half of a float32, so {@code int << 16} is the first 8 weights as floats and
 * {@code int & 0xFFFF0000} the next 8, exactly, in the order of {@link Kernels#dot}. A row's last {@code k % 16}
 * weights are stored one per int (low half): an 8-wide block if there are 8 or more, then the scalar tail.
 */
public final class Bf16Linear extends Linear {
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F = Kernels.F;
    private static final int HIGH_HALF = 0xFFFF0000;

    private final int[] packed;
    private final int rowInts;

    /** Packs {@code weight}, the raw bfloat16 bits of a row-major {@code [outFeatures, inFeatures]} matrix. */
    public Bf16Linear(short[] weight, int outFeatures, int inFeatures) {
        super(outFeatures, inFeatures);
        if (weight.length != (long) outFeatures * inFeatures) {
            throw new IllegalArgumentException(
                    "weight has " + weight.length + " elements, expected " + outFeatures + "x" + inFeatures);
        }
        this.rowInts = rowInts(inFeatures);
        this.packed = new int[Math.multiplyExact(outFeatures, rowInts)];
        for (int o = 0; o < outFeatures; o++) {
            packRow(weight, o * inFeatures, packed, o * rowInts, inFeatures);
        }
    }

    private static int rowInts(int k) {
        int rest = k % 16;
        return (k / 16) * 8 + rest;
    }

    private static void packRow(short[] src, int from, int[] dst, int to, int k) {
        int chunks = k / 16;
        for (int c = 0; c < chunks; c++) {
            for (int j = 0; j < 8; j++) {
                int low = src[from + 16 * c + j] & 0xFFFF;
                int high = src[from + 16 * c + 8 + j] & 0xFFFF;
                dst[to + 8 * c + j] = low | (high << 16);
            }
        }
        for (int i = chunks * 16, p = to + chunks * 8; i < k; i++, p++) {
            dst[p] = src[from + i] & 0xFFFF;
        }
    }

    @Override
    public long bytes() {
        return 4L * packed.length;
    }

    /** Weight {@code (o, i)} as float. */
    public float get(int o, int i) {
        int chunk = i / 16;
        int base = o * rowInts;
        int k = inFeatures();
        if (chunk < k / 16) {
            int bits = packed[base + 8 * chunk + (i % 8)];
            return Float.intBitsToFloat(i % 16 < 8 ? bits << 16 : bits & HIGH_HALF);
        }
        return Float.intBitsToFloat(packed[base + (k / 16) * 8 + (i - (k / 16) * 16)] << 16);
    }

    @Override
    public void copyRow(int o, float[] dst, int dstOff) {
        int k = inFeatures();
        int base = o * rowInts;
        int chunks = k / 16;
        for (int c = 0; c < chunks; c++) {
            IntVector v = IntVector.fromArray(I, packed, base + 8 * c);
            low(v).intoArray(dst, dstOff + 16 * c);
            high(v).intoArray(dst, dstOff + 16 * c + 8);
        }
        for (int i = chunks * 16, p = base + chunks * 8; i < k; i++, p++) {
            dst[dstOff + i] = Float.intBitsToFloat(packed[p] << 16);
        }
    }

    @Override
    float[] tileRows(int tile, float[] scratch, int[] rowOffsets) {
        int k = inFeatures();
        for (int r = 0; r < TILE_OUT; r++) {
            copyRow(tileRow(tile, r), scratch, r * k);
            rowOffsets[r] = r * k;
        }
        return scratch;
    }

    private static FloatVector low(IntVector v) {
        return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector high(IntVector v) {
        return v.and(HIGH_HALF).reinterpretAsFloats();
    }

    @Override
    void dotTile(int tile, float[] x, int xOff, float[] out) {
        int k = inFeatures();
        int w0 = tileRow(tile, 0) * rowInts;
        int w1 = tileRow(tile, 1) * rowInts;
        int w2 = tileRow(tile, 2) * rowInts;
        int w3 = tileRow(tile, 3) * rowInts;
        int chunks = k / 16;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int c = 0; c < chunks; c++) {
            int p = 8 * c;
            FloatVector xl = FloatVector.fromArray(F, x, xOff + 16 * c);
            FloatVector xh = FloatVector.fromArray(F, x, xOff + 16 * c + 8);
            IntVector v0 = IntVector.fromArray(I, packed, w0 + p);
            IntVector v1 = IntVector.fromArray(I, packed, w1 + p);
            IntVector v2 = IntVector.fromArray(I, packed, w2 + p);
            IntVector v3 = IntVector.fromArray(I, packed, w3 + p);
            a0 = low(v0).fma(xl, a0);
            a1 = low(v1).fma(xl, a1);
            a2 = low(v2).fma(xl, a2);
            a3 = low(v3).fma(xl, a3);
            a0 = high(v0).fma(xh, a0);
            a1 = high(v1).fma(xh, a1);
            a2 = high(v2).fma(xh, a2);
            a3 = high(v3).fma(xh, a3);
        }
        int done = chunks * 16;
        int p = chunks * 8;
        if (k - done >= 8) {
            FloatVector xl = FloatVector.fromArray(F, x, xOff + done);
            a0 = low(IntVector.fromArray(I, packed, w0 + p)).fma(xl, a0);
            a1 = low(IntVector.fromArray(I, packed, w1 + p)).fma(xl, a1);
            a2 = low(IntVector.fromArray(I, packed, w2 + p)).fma(xl, a2);
            a3 = low(IntVector.fromArray(I, packed, w3 + p)).fma(xl, a3);
            done += 8;
            p += 8;
        }
        out[0] = tail(w0 + p, x, xOff, done, k, Kernels.sumLanes(a0));
        out[1] = tail(w1 + p, x, xOff, done, k, Kernels.sumLanes(a1));
        out[2] = tail(w2 + p, x, xOff, done, k, Kernels.sumLanes(a2));
        out[3] = tail(w3 + p, x, xOff, done, k, Kernels.sumLanes(a3));
    }

    private float tail(int p, float[] x, int xOff, int from, int k, float s) {
        for (int i = from; i < k; i++, p++) {
            s = Math.fma(Float.intBitsToFloat(packed[p] << 16), x[xOff + i], s);
        }
        return s;
    }
}
