package io.moestream.engine.sampling;

import java.util.Arrays;

/**
 * Chooses the next token from logits. Greedy is argmax (ties to the lower id). Otherwise temperature, then top-k,
 * then top-p (the order of transformers' logits warpers), then one draw whose uniform number comes from the request's
 * seed and the step number alone (DESIGN.md section 3): the same request gives the same tokens whatever else ran.
 * Not thread-safe: one per thread (it keeps its candidate buffers).
 */
public final class Sampler {
    private long[] order = new long[0];
    private double[] weights = new double[0];

    /** Picks a token from {@code logits[off .. off+vocab)} at generation step {@code step}. */
    public int sample(float[] logits, int off, int vocab, SamplingParams params, int step) {
        if (params.isGreedy()) {
            return argmax(logits, off, vocab);
        }
        int candidates = sortedCandidates(logits, off, vocab, params.topK());
        float max = logits[off + tokenAt(0)];
        double total = 0;
        for (int i = 0; i < candidates; i++) {
            weights[i] = Math.exp((logits[off + tokenAt(i)] - max) / params.temperature());
            total += weights[i];
        }
        // Nucleus: the smallest prefix whose probability reaches top_p (always at least one token).
        int kept = candidates;
        if (params.topP() < 1) {
            double cumulative = 0;
            for (int i = 0; i < candidates; i++) {
                cumulative += weights[i] / total;
                if (cumulative >= params.topP()) {
                    kept = i + 1;
                    break;
                }
            }
        }
        double keptTotal = 0;
        for (int i = 0; i < kept; i++) {
            keptTotal += weights[i];
        }
        double target = uniform(params.seed(), step) * keptTotal;
        double running = 0;
        for (int i = 0; i < kept; i++) {
            running += weights[i];
            if (target < running) {
                return tokenAt(i);
            }
        }
        return tokenAt(kept - 1);
    }

    public static int argmax(float[] logits, int off, int vocab) {
        int best = 0;
        for (int i = 1; i < vocab; i++) {
            if (logits[off + i] > logits[off + best]) {
                best = i;
            }
        }
        return best;
    }

    /** A uniform number in [0, 1) from (seed, step) alone: SplitMix64 of their mix, 53 bits. */
    public static double uniform(long seed, int step) {
        long z = seed + 0x9E3779B97F4A7C15L * (step + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (z >>> 11) * 0x1.0p-53;
    }

    /**
     * Sorts token ids by descending logit (ties to the lower id) into {@link #order}, keeping the top {@code topK}
     * (all when 0); returns the count. Each entry packs an order-preserving key of the logit with the token id.
     */
    private int sortedCandidates(float[] logits, int off, int vocab, int topK) {
        if (order.length < vocab) {
            order = new long[vocab];
            weights = new double[vocab];
        }
        for (int i = 0; i < vocab; i++) {
            int bits = Float.floatToIntBits(logits[off + i]);
            int ascendingUnsigned = bits >= 0 ? bits ^ 0x80000000 : ~bits;
            int descendingSigned = ~ascendingUnsigned ^ 0x80000000;
            order[i] = ((long) descendingSigned << 32) | i;
        }
        Arrays.sort(order, 0, vocab);
        return topK > 0 ? Math.min(topK, vocab) : vocab;
    }

    private int tokenAt(int rank) {
        return (int) order[rank];
    }
}
