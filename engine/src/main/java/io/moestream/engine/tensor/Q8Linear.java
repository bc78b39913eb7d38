package io.moestream.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * An 8-bit weight matrix quantised on load, as llama.cpp's q8_0: each row in blocks of 32 weights, each block one
 * float32 scale {@code d = max|w| / 127} and 32 signed bytes {@code q = round(w / d)}; the weight is {@code q * d}.
 * The bytes of a block are packed into 8 ints so the kernel widens them with two shifts per 8 weights: byte {@code b}
 * of int {@code j} is weight {@code 8b + j} of the block. The kernels multiply {@code q * d} in float32 before the
 * FMA, so the result is bitwise that of the float32 matrix of the dequantised weights ({@link #dequantized}).
 */
public final class Q8Linear extends Linear {
    static final int BLOCK = 32;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F = Kernels.F;

    private final int[] quants;
    private final float[] scales;
    private final int blocksPerRow;

    private Q8Linear(int[] quants, float[] scales, int outFeatures, int inFeatures) {
        super(outFeatures, inFeatures);
        this.quants = quants;
        this.scales = scales;
        this.blocksPerRow = (inFeatures + BLOCK - 1) / BLOCK;
    }

    /** Quantises the row-major {@code [outFeatures, inFeatures]} float32 matrix {@code weight}. */
    public static Q8Linear quantize(float[] weight, int outFeatures, int inFeatures) {
        if (weight.length != (long) outFeatures * inFeatures) {
            throw new IllegalArgumentException(
                    "weight has " + weight.length + " elements, expected " + outFeatures + "x" + inFeatures);
        }
        int blocks = (inFeatures + BLOCK - 1) / BLOCK;
        int[] quants = new int[Math.multiplyExact(outFeatures, blocks * 8)];
        float[] scales = new float[outFeatures * blocks];
        for (int o = 0; o < outFeatures; o++) {
            for (int b = 0; b < blocks; b++) {
                int from = o * inFeatures + b * BLOCK;
                int n = Math.min(BLOCK, inFeatures - b * BLOCK);
                float amax = 0;
                for (int i = 0; i < n; i++) {
                    amax = Math.max(amax, Math.abs(weight[from + i]));
                }
                float d = amax / 127;
                float id = d != 0 ? 1 / d : 0;
                scales[o * blocks + b] = d;
                int q0 = (o * blocks + b) * 8;
                for (int i = 0; i < n; i++) {
                    int q = Math.round(weight[from + i] * id);
                    quants[q0 + (i % 8)] |= (q & 0xFF) << (8 * (i / 8));
                }
            }
        }
        return new Q8Linear(quants, scales, outFeatures, inFeatures);
    }

    @Override
    public long bytes() {
        return 4L * quants.length + 4L * scales.length;
    }

    /** Weight {@code (o, i)} as the kernels see it: {@code q * d} in float32. */
    public float get(int o, int i) {
        int block = o * blocksPerRow + i / BLOCK;
        int p = i % BLOCK;
        int q = (quants[block * 8 + (p % 8)] << (24 - 8 * (p / 8))) >> 24;
        return q * scales[block];
    }

    /** The float32 matrix of the dequantised weights. */
    public float[] dequantized() {
        int k = inFeatures();
        float[] out = new float[outFeatures() * k];
        for (int o = 0; o < outFeatures(); o++) {
            copyRow(o, out, o * k);
        }
        return out;
    }

    @Override
    public void copyRow(int o, float[] dst, int dstOff) {
        for (int i = 0; i < inFeatures(); i++) {
            dst[dstOff + i] = get(o, i);
        }
    }

    @Override
    float[] tileRows(int tile, float[] scratch, int[] rowOffsets) {
        int k = inFeatures();
        for (int r = 0; r < TILE_OUT; r++) {
            int row = tileRow(tile, r);
            int off = r * k;
            int full = k / BLOCK;
            for (int b = 0; b < full; b++) {
                int block = row * blocksPerRow + b;
                FloatVector d = FloatVector.broadcast(F, scales[block]);
                IntVector v = IntVector.fromArray(I, quants, block * 8);
                int to = off + b * BLOCK;
                weights(v, 0, d).intoArray(scratch, to);
                weights(v, 1, d).intoArray(scratch, to + 8);
                weights(v, 2, d).intoArray(scratch, to + 16);
                weights(v, 3, d).intoArray(scratch, to + 24);
            }
            for (int i = full * BLOCK; i < k; i++) {
                scratch[off + i] = get(row, i);
            }
            rowOffsets[r] = off;
        }
        return scratch;
    }

    /** Weights {@code 8 * part .. 8 * part + 7} of a block: byte {@code part} of each int, sign-extended, times d. */
    private static FloatVector weights(IntVector block, int part, FloatVector d) {
        IntVector q = block.lanewise(VectorOperators.LSHL, 24 - 8 * part).lanewise(VectorOperators.ASHR, 24);
        return ((FloatVector) q.convert(VectorOperators.I2F, 0)).mul(d);
    }

    @Override
    void dotTile(int tile, float[] x, int xOff, float[] out) {
        int k = inFeatures();
        int b0 = tileRow(tile, 0) * blocksPerRow;
        int b1 = tileRow(tile, 1) * blocksPerRow;
        int b2 = tileRow(tile, 2) * blocksPerRow;
        int b3 = tileRow(tile, 3) * blocksPerRow;
        int vk = k & ~(Kernels.LANES - 1);
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int b = 0; b * BLOCK < vk; b++) {
            IntVector v0 = IntVector.fromArray(I, quants, (b0 + b) * 8);
            IntVector v1 = IntVector.fromArray(I, quants, (b1 + b) * 8);
            IntVector v2 = IntVector.fromArray(I, quants, (b2 + b) * 8);
            IntVector v3 = IntVector.fromArray(I, quants, (b3 + b) * 8);
            FloatVector d0 = FloatVector.broadcast(F, scales[b0 + b]);
            FloatVector d1 = FloatVector.broadcast(F, scales[b1 + b]);
            FloatVector d2 = FloatVector.broadcast(F, scales[b2 + b]);
            FloatVector d3 = FloatVector.broadcast(F, scales[b3 + b]);
            int parts = Math.min(4, (vk - b * BLOCK) / 8);
            for (int part = 0; part < parts; part++) {
                FloatVector xv = FloatVector.fromArray(F, x, xOff + b * BLOCK + 8 * part);
                a0 = weights(v0, part, d0).fma(xv, a0);
                a1 = weights(v1, part, d1).fma(xv, a1);
                a2 = weights(v2, part, d2).fma(xv, a2);
                a3 = weights(v3, part, d3).fma(xv, a3);
            }
        }
        out[0] = tail(tileRow(tile, 0), x, xOff, vk, k, Kernels.sumLanes(a0));
        out[1] = tail(tileRow(tile, 1), x, xOff, vk, k, Kernels.sumLanes(a1));
        out[2] = tail(tileRow(tile, 2), x, xOff, vk, k, Kernels.sumLanes(a2));
        out[3] = tail(tileRow(tile, 3), x, xOff, vk, k, Kernels.sumLanes(a3));
    }

    private float tail(int row, float[] x, int xOff, int from, int k, float s) {
        for (int i = from; i < k; i++) {
            s = Math.fma(get(row, i), x[xOff + i], s);
        }
        return s;
    }
}
