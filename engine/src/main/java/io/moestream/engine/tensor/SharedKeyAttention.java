package io.moestream.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Attention of 8 query heads over one key set they share: MLA's absorbed form (the heads' latent queries against the
 * sequence's compressed latents) and DeepSeek-V4's shared-KV attention (one key/value head for all). The keys are read
 * once per row and 4 heads, not once per head. The keys come in two layouts: blocks of {@value #BLOCK} positions,
 * dimension-major ({@code keys[((p / 8) * dims + d) * 8 + p % 8]}), for the scores, which vectorise over 8
 * positions; and row-major ({@code latent[p * rank + i]}) for the weighted sum, which vectorises over 8 dimensions; each output is a
 * sequential FMA chain (over dimensions, then over positions), so no horizontal sums and a fixed order whatever the
 * batch or thread count. A group with fewer than 8 real heads repeats its last head (same inputs, same bits, same
 * destination).
 */
public final class SharedKeyAttention {
    /** Heads per call. */
    public static final int HEADS = 8;
    /** Positions per block of the key layout: one 8-lane vector. */
    public static final int BLOCK = 8;

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final int LANES = 8;

    private SharedKeyAttention() {}

    /**
     * {@code scores[s * stride + p] = scale * (qLat_s . latent_p + qPe_s . ropeKey_p)} for the 8 heads {@code s} and
     * every position {@code p} of the blocks covering {@code positions} ({@code stride} at least that, rounded up
     * to 8; entries past {@code positions} are unused). Each pass covers 2 blocks (16 positions) for 4 heads: 8
     * accumulators, 6 loads per 8 FMAs; both groups of 4 heads run on a pair of blocks while its keys are in L1.
     */
    public static void scores(
            float[] keys,
            int latentDim,
            int ropeDim,
            int positions,
            float[] qLat,
            int[] latOff,
            float[] qPe,
            int[] peOff,
            float scale,
            float[] scores,
            int stride) {
        int dims = latentDim + ropeDim;
        int blocks = (positions + BLOCK - 1) / BLOCK;
        FloatVector vs = FloatVector.broadcast(F, scale);
        for (int b = 0; b < blocks; b += 2) {
            boolean pair = b + 1 < blocks;
            for (int first = 0; first < HEADS; first += 4) {
                int l0 = latOff[first], l1 = latOff[first + 1], l2 = latOff[first + 2], l3 = latOff[first + 3];
                int e0 = peOff[first] - latentDim, e1 = peOff[first + 1] - latentDim;
                int e2 = peOff[first + 2] - latentDim, e3 = peOff[first + 3] - latentDim;
                int at = b * dims * BLOCK;
                int next = pair ? at + dims * BLOCK : at;
                FloatVector z = FloatVector.zero(F);
                FloatVector a0 = z, a1 = z, a2 = z, a3 = z, c0 = z, c1 = z, c2 = z, c3 = z;
                for (int d = 0; d < latentDim; d++, at += BLOCK, next += BLOCK) {
                    FloatVector k = FloatVector.fromArray(F, keys, at);
                    FloatVector n = FloatVector.fromArray(F, keys, next);
                    FloatVector q = FloatVector.broadcast(F, qLat[l0 + d]);
                    a0 = k.fma(q, a0);
                    c0 = n.fma(q, c0);
                    q = FloatVector.broadcast(F, qLat[l1 + d]);
                    a1 = k.fma(q, a1);
                    c1 = n.fma(q, c1);
                    q = FloatVector.broadcast(F, qLat[l2 + d]);
                    a2 = k.fma(q, a2);
                    c2 = n.fma(q, c2);
                    q = FloatVector.broadcast(F, qLat[l3 + d]);
                    a3 = k.fma(q, a3);
                    c3 = n.fma(q, c3);
                }
                for (int d = latentDim; d < dims; d++, at += BLOCK, next += BLOCK) {
                    FloatVector k = FloatVector.fromArray(F, keys, at);
                    FloatVector n = FloatVector.fromArray(F, keys, next);
                    FloatVector q = FloatVector.broadcast(F, qPe[e0 + d]);
                    a0 = k.fma(q, a0);
                    c0 = n.fma(q, c0);
                    q = FloatVector.broadcast(F, qPe[e1 + d]);
                    a1 = k.fma(q, a1);
                    c1 = n.fma(q, c1);
                    q = FloatVector.broadcast(F, qPe[e2 + d]);
                    a2 = k.fma(q, a2);
                    c2 = n.fma(q, c2);
                    q = FloatVector.broadcast(F, qPe[e3 + d]);
                    a3 = k.fma(q, a3);
                    c3 = n.fma(q, c3);
                }
                int p = first * stride + b * BLOCK;
                a0.mul(vs).intoArray(scores, p);
                a1.mul(vs).intoArray(scores, p + stride);
                a2.mul(vs).intoArray(scores, p + 2 * stride);
                a3.mul(vs).intoArray(scores, p + 3 * stride);
                if (pair) {
                    p += BLOCK;
                    c0.mul(vs).intoArray(scores, p);
                    c1.mul(vs).intoArray(scores, p + stride);
                    c2.mul(vs).intoArray(scores, p + 2 * stride);
                    c3.mul(vs).intoArray(scores, p + 3 * stride);
                }
            }
        }
    }

    /**
     * {@code out[outOff[s] + i] = sum_p probs[s * stride + p] * latent[p * rank + i]} for the 8 heads {@code s}, in
     * order of {@code p}. Each pass covers 16 dimensions (a whole cache line of each latent row) for 4 heads: 8
     * accumulators, 6 loads per 8 FMAs; both groups of 4 heads run on a column of 16 dimensions in turn, so the second
     * finds it in cache.
     */
    public static void values(
            float[] latent, int rank, int positions, float[] probs, int stride, float[] out, int[] outOff) {
        int wide = rank & ~(2 * LANES - 1);
        for (int c = 0; c < wide; c += 2 * LANES) {
            for (int first = 0; first < HEADS; first += 4) {
                int h0 = first * stride, h1 = h0 + stride, h2 = h1 + stride, h3 = h2 + stride;
                FloatVector z = FloatVector.zero(F);
                FloatVector a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
                for (int p = 0, at = c; p < positions; p++, at += rank) {
                    FloatVector lo = FloatVector.fromArray(F, latent, at);
                    FloatVector hi = FloatVector.fromArray(F, latent, at + LANES);
                    FloatVector w = FloatVector.broadcast(F, probs[h0 + p]);
                    a0 = lo.fma(w, a0);
                    b0 = hi.fma(w, b0);
                    w = FloatVector.broadcast(F, probs[h1 + p]);
                    a1 = lo.fma(w, a1);
                    b1 = hi.fma(w, b1);
                    w = FloatVector.broadcast(F, probs[h2 + p]);
                    a2 = lo.fma(w, a2);
                    b2 = hi.fma(w, b2);
                    w = FloatVector.broadcast(F, probs[h3 + p]);
                    a3 = lo.fma(w, a3);
                    b3 = hi.fma(w, b3);
                }
                a0.intoArray(out, outOff[first] + c);
                b0.intoArray(out, outOff[first] + c + LANES);
                a1.intoArray(out, outOff[first + 1] + c);
                b1.intoArray(out, outOff[first + 1] + c + LANES);
                a2.intoArray(out, outOff[first + 2] + c);
                b2.intoArray(out, outOff[first + 2] + c + LANES);
                a3.intoArray(out, outOff[first + 3] + c);
                b3.intoArray(out, outOff[first + 3] + c + LANES);
            }
        }
        for (int i = wide; i < rank; i++) {
            for (int s = 0; s < HEADS; s++) {
                float sum = 0;
                for (int p = 0; p < positions; p++) {
                    sum = Math.fma(latent[p * rank + i], probs[s * stride + p], sum);
                }
                out[outOff[s] + i] = sum;
            }
        }
    }

    /** Per-thread buffers of one head group: offsets and the 8 heads' scores. */
    public static final class Scratch {
        private static final ThreadLocal<Scratch> CURRENT = ThreadLocal.withInitial(Scratch::new);

        public final int[] latentOffsets = new int[HEADS];
        public final int[] ropeOffsets = new int[HEADS];
        public final int[] outOffsets = new int[HEADS];
        private float[] scores = new float[HEADS * 256];

        public static Scratch get() {
            return CURRENT.get();
        }

        /** Room for 8 heads' scores of {@code stride} positions each. */
        public float[] scores(int stride) {
            if (scores.length < HEADS * stride) {
                scores = new float[HEADS * Math.max(stride, scores.length / HEADS * 2)];
            }
            return scores;
        }
    }
}
