package io.moestream.engine.model;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The core of MLA's absorbed form for one row: 8 heads at a time over the row's sequence cache ({@link KvCache}), so
 * the cache is read once per row and head group, not once per head. Scores vectorise over 8 positions of the blocked
 * key layout; the weighted sum vectorises over 8 latent dimensions of the row-major layout; each output is a
 * sequential FMA chain (over dimensions, then over positions), so no horizontal sums and a fixed order whatever the
 * batch or thread count. A group with fewer than 8 real heads repeats its last head (same inputs, same bits, same
 * destination).
 */
final class LatentAttention {
    static final int HEADS = 8;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final int LANES = 8;

    private LatentAttention() {}

    /**
     * {@code scores[s * stride + p] = scale * (qLat_s . latent_p + qPe_s . ropeKey_p)} for the 8 heads {@code s} and
     * every position {@code p} of the blocks covering {@code positions} ({@code stride} at least that, rounded up
     * to 8; entries past {@code positions} are unused).
     */
    static void scores(
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
        int l0 = latOff[0], l1 = latOff[1], l2 = latOff[2], l3 = latOff[3];
        int l4 = latOff[4], l5 = latOff[5], l6 = latOff[6], l7 = latOff[7];
        int e0 = peOff[0] - latentDim, e1 = peOff[1] - latentDim, e2 = peOff[2] - latentDim;
        int e3 = peOff[3] - latentDim, e4 = peOff[4] - latentDim, e5 = peOff[5] - latentDim;
        int e6 = peOff[6] - latentDim, e7 = peOff[7] - latentDim;
        FloatVector vs = FloatVector.broadcast(F, scale);
        for (int b = 0; b * KvCache.BLOCK < positions; b++) {
            FloatVector z = FloatVector.zero(F);
            FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
            int at = b * dims * KvCache.BLOCK;
            for (int d = 0; d < latentDim; d++, at += KvCache.BLOCK) {
                FloatVector k = FloatVector.fromArray(F, keys, at);
                a0 = k.fma(FloatVector.broadcast(F, qLat[l0 + d]), a0);
                a1 = k.fma(FloatVector.broadcast(F, qLat[l1 + d]), a1);
                a2 = k.fma(FloatVector.broadcast(F, qLat[l2 + d]), a2);
                a3 = k.fma(FloatVector.broadcast(F, qLat[l3 + d]), a3);
                a4 = k.fma(FloatVector.broadcast(F, qLat[l4 + d]), a4);
                a5 = k.fma(FloatVector.broadcast(F, qLat[l5 + d]), a5);
                a6 = k.fma(FloatVector.broadcast(F, qLat[l6 + d]), a6);
                a7 = k.fma(FloatVector.broadcast(F, qLat[l7 + d]), a7);
            }
            for (int d = latentDim; d < dims; d++, at += KvCache.BLOCK) {
                FloatVector k = FloatVector.fromArray(F, keys, at);
                a0 = k.fma(FloatVector.broadcast(F, qPe[e0 + d]), a0);
                a1 = k.fma(FloatVector.broadcast(F, qPe[e1 + d]), a1);
                a2 = k.fma(FloatVector.broadcast(F, qPe[e2 + d]), a2);
                a3 = k.fma(FloatVector.broadcast(F, qPe[e3 + d]), a3);
                a4 = k.fma(FloatVector.broadcast(F, qPe[e4 + d]), a4);
                a5 = k.fma(FloatVector.broadcast(F, qPe[e5 + d]), a5);
                a6 = k.fma(FloatVector.broadcast(F, qPe[e6 + d]), a6);
                a7 = k.fma(FloatVector.broadcast(F, qPe[e7 + d]), a7);
            }
            int p = b * KvCache.BLOCK;
            a0.mul(vs).intoArray(scores, p);
            a1.mul(vs).intoArray(scores, stride + p);
            a2.mul(vs).intoArray(scores, 2 * stride + p);
            a3.mul(vs).intoArray(scores, 3 * stride + p);
            a4.mul(vs).intoArray(scores, 4 * stride + p);
            a5.mul(vs).intoArray(scores, 5 * stride + p);
            a6.mul(vs).intoArray(scores, 6 * stride + p);
            a7.mul(vs).intoArray(scores, 7 * stride + p);
        }
    }

    /**
     * {@code out[outOff[s] + i] = sum_p probs[s * stride + p] * latent[p * rank + i]} for the 8 heads {@code s}, in
     * order of {@code p}.
     */
    static void values(float[] latent, int rank, int positions, float[] probs, int stride, float[] out, int[] outOff) {
        int vr = rank & ~(LANES - 1);
        for (int c = 0; c < vr; c += LANES) {
            FloatVector z = FloatVector.zero(F);
            FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
            for (int p = 0, at = c; p < positions; p++, at += rank) {
                FloatVector v = FloatVector.fromArray(F, latent, at);
                a0 = v.fma(FloatVector.broadcast(F, probs[p]), a0);
                a1 = v.fma(FloatVector.broadcast(F, probs[stride + p]), a1);
                a2 = v.fma(FloatVector.broadcast(F, probs[2 * stride + p]), a2);
                a3 = v.fma(FloatVector.broadcast(F, probs[3 * stride + p]), a3);
                a4 = v.fma(FloatVector.broadcast(F, probs[4 * stride + p]), a4);
                a5 = v.fma(FloatVector.broadcast(F, probs[5 * stride + p]), a5);
                a6 = v.fma(FloatVector.broadcast(F, probs[6 * stride + p]), a6);
                a7 = v.fma(FloatVector.broadcast(F, probs[7 * stride + p]), a7);
            }
            a0.intoArray(out, outOff[0] + c);
            a1.intoArray(out, outOff[1] + c);
            a2.intoArray(out, outOff[2] + c);
            a3.intoArray(out, outOff[3] + c);
            a4.intoArray(out, outOff[4] + c);
            a5.intoArray(out, outOff[5] + c);
            a6.intoArray(out, outOff[6] + c);
            a7.intoArray(out, outOff[7] + c);
        }
        for (int i = vr; i < rank; i++) {
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
    static final class Scratch {
        private static final ThreadLocal<Scratch> CURRENT = ThreadLocal.withInitial(Scratch::new);

        final int[] latentOffsets = new int[HEADS];
        final int[] ropeOffsets = new int[HEADS];
        final int[] outOffsets = new int[HEADS];
        private float[] scores = new float[HEADS * 256];

        static Scratch get() {
            return CURRENT.get();
        }

        /** Room for 8 heads' scores of {@code stride} positions each. */
        float[] scores(int stride) {
            if (scores.length < HEADS * stride) {
                scores = new float[HEADS * Math.max(stride, scores.length / HEADS * 2)];
            }
            return scores;
        }
    }
}
