package io.moestream.engine.sampling;

import io.moestream.engine.tensor.Kernels;
import java.util.Arrays;

/**
 * Chooses the next token from logits. Greedy is argmax (ties to the lower id). Otherwise temperature, then top-k,
 * then top-p (the order of transformers' logits warpers), then one draw whose uniform number comes from the request's
 * seed and the step number alone (DESIGN.md section 3): the same request gives the same tokens whatever else ran.
 *
 * <p>Cost: a step never sorts the vocabulary. The weights {@code e^((logit - max) / T)} come from the vectorised
 * {@link Kernels#exp} (the same bits on every machine, unlike Math.exp); top-k and top-p need only the best tokens in
 * rank order, which a bounded heap finds (64 first, more only when their mass falls short of top_p); without either,
 * the draw walks the vocabulary in id order. Not thread-safe: one per thread (it keeps its buffers).
 */
public final class Sampler {
    /** Tokens ranked first when top-p needs a prefix; multiplied by 8 while their mass falls short. */
    private static final int FIRST_PREFIX = 64;

    private float[] weights = new float[0];
    /** Ranked candidates: an order-preserving key of the logit (descending) packed with the token id. */
    private long[] ranked = new long[0];

    /** Picks a token from {@code logits[off .. off+vocab)} at generation step {@code step}. */
    public int sample(float[] logits, int off, int vocab, SamplingParams params, int step) {
        if (params.isGreedy()) {
            return argmax(logits, off, vocab);
        }
        if (weights.length < vocab) {
            weights = new float[vocab];
        }
        float max = logits[off + argmax(logits, off, vocab)];
        Kernels.scaledExp(logits, off, vocab, max, (float) (1 / params.temperature()), weights);
        double u = uniform(params.seed(), step);
        if (params.topK() == 0 && params.topP() >= 1) {
            double total = 0;
            for (int i = 0; i < vocab; i++) {
                total += weights[i];
            }
            double target = u * total;
            double running = 0;
            for (int i = 0; i < vocab; i++) {
                running += weights[i];
                if (target < running) {
                    return i;
                }
            }
            return vocab - 1;
        }
        // The candidates' total mass: the top k in rank order, or the whole vocabulary in id order.
        int candidates = params.topK() > 0 ? Math.min(params.topK(), vocab) : vocab;
        double total = 0;
        int prefix = params.topK() > 0 ? candidates : Math.min(FIRST_PREFIX, vocab);
        rank(logits, off, vocab, prefix);
        if (params.topK() > 0) {
            for (int r = 0; r < candidates; r++) {
                total += weights[tokenAt(r)];
            }
        } else {
            for (int i = 0; i < vocab; i++) {
                total += weights[i];
            }
        }
        // Nucleus: the smallest prefix in rank order whose probability reaches top_p (always at least one token).
        int kept = candidates;
        if (params.topP() < 1) {
            double cumulative = 0;
            for (int r = 0; r < candidates; r++) {
                if (r == prefix) {
                    prefix = (int) Math.min(candidates, 8L * prefix);
                    rank(logits, off, vocab, prefix);
                }
                cumulative += weights[tokenAt(r)] / total;
                if (cumulative >= params.topP()) {
                    kept = r + 1;
                    break;
                }
            }
        }
        if (kept > prefix) {
            rank(logits, off, vocab, kept);
        }
        double keptTotal = 0;
        for (int r = 0; r < kept; r++) {
            keptTotal += weights[tokenAt(r)];
        }
        double target = u * keptTotal;
        double running = 0;
        for (int r = 0; r < kept; r++) {
            running += weights[tokenAt(r)];
            if (target < running) {
                return tokenAt(r);
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
     * Puts the {@code count} best tokens (descending logit, ties to the lower id) in rank order into {@link #ranked}:
     * a max-heap of the {@code count} smallest keys over one pass of the vocabulary, then a sort of those.
     */
    private void rank(float[] logits, int off, int vocab, int count) {
        if (ranked.length < count) {
            ranked = new long[Math.max(count, Math.min(vocab, 2 * ranked.length))];
        }
        int size = 0;
        for (int i = 0; i < vocab; i++) {
            long key = key(logits[off + i], i);
            if (size < count) {
                siftUp(key, size++);
            } else if (key < ranked[0]) {
                siftDown(key, count);
            }
        }
        Arrays.sort(ranked, 0, count);
    }

    /** Orders by descending logit, then ascending id, as a signed long. */
    private static long key(float logit, int token) {
        int bits = Float.floatToIntBits(logit);
        int ascendingUnsigned = bits >= 0 ? bits ^ 0x80000000 : ~bits;
        int descendingSigned = ~ascendingUnsigned ^ 0x80000000;
        return ((long) descendingSigned << 32) | token;
    }

    private void siftUp(long key, int at) {
        while (at > 0) {
            int parent = (at - 1) / 2;
            if (ranked[parent] >= key) {
                break;
            }
            ranked[at] = ranked[parent];
            at = parent;
        }
        ranked[at] = key;
    }

    /** Replaces the heap's largest key by {@code key}. */
    private void siftDown(long key, int size) {
        int at = 0;
        while (true) {
            int child = 2 * at + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && ranked[child + 1] > ranked[child]) {
                child++;
            }
            if (ranked[child] <= key) {
                break;
            }
            ranked[at] = ranked[child];
            at = child;
        }
        ranked[at] = key;
    }

    private int tokenAt(int rank) {
        return (int) ranked[rank];
    }
}
