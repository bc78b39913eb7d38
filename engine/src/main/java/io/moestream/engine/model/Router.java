package io.moestream.engine.model;

import io.moestream.engine.config.RouterConfig;
import io.moestream.engine.tensor.F32Linear;
import io.moestream.engine.tensor.Parallel;

/**
 * Picks each token's routed experts and their weights, as transformers' DeepSeek-V2, -V3 and -V4 routers do. The
 * chosen experts are returned in rank order (best choice first, ties to the lower expert index; a hash layer's in
 * its table's order), the order in which the combine adds their outputs (DESIGN.md section 3).
 */
public final class Router {
    private final RouterConfig config;
    /** The gate, {@code [experts, hidden]}, in float32 as transformers casts it. */
    private final F32Linear gate;
    /** DeepSeek-V3's and -V4's {@code e_score_correction_bias}: shifts the selection only, never the weights. */
    private final float[] correctionBias;

    /**
     * DeepSeek-V4's hash routing ({@code hash_moe} layers): {@code tokenExperts[token * topK + k]} is the k-th expert
     * of a token id, a frozen table ({@code tid2eid}) instead of a learned choice; null for a learned router.
     */
    private final int[] tokenExperts;

    private final int experts;

    /**
     * @param correctionBias the selection bias, or null
     * @param tokenExperts the {@code [vocab, topK]} table of a hash-routed layer, or null
     */
    public Router(RouterConfig config, F32Linear gate, float[] correctionBias, int[] tokenExperts) {
        this.config = config;
        this.gate = gate;
        this.correctionBias = correctionBias;
        this.tokenExperts = tokenExperts;
        this.experts = gate.outFeatures();
        if (tokenExperts != null) {
            for (int id : tokenExperts) {
                if (id < 0 || id >= experts) {
                    throw new IllegalArgumentException("hash routing table names expert " + id + " of " + experts);
                }
            }
        }
    }

    /** Bytes of weights held. */
    public long bytes() {
        return gate.bytes()
                + (correctionBias == null ? 0 : 4L * correctionBias.length)
                + (tokenExperts == null ? 0 : 4L * tokenExperts.length);
    }

    public int topK() {
        return config.topK();
    }

    /**
     * Routes the {@code rows} normalised hidden states of {@code batch}: writes {@code expertIds[t*topK + k]} and
     * {@code weights[t*topK + k]}. {@code logits} needs {@code rows * experts} floats.
     */
    public void route(
            float[] hidden,
            MicroBatch batch,
            int rows,
            float[] logits,
            int[] expertIds,
            float[] weights,
            Parallel parallel) {
        gate.forward(hidden, 0, gate.inFeatures(), rows, logits, 0, experts, parallel);
        Buffers buffers = BUFFERS.get();
        float[] scores = buffers.floats(0, experts);
        float[] choice = buffers.floats(1, experts);
        for (int t = 0; t < rows; t++) {
            routeRow(
                    logits,
                    t * experts,
                    batch.token(t),
                    scores,
                    choice,
                    expertIds,
                    weights,
                    t * config.topK(),
                    buffers);
        }
    }

    private void routeRow(
            float[] logits,
            int off,
            int token,
            float[] scores,
            float[] choice,
            int[] ids,
            float[] weights,
            int outOff,
            Buffers buffers) {
        int k = config.topK();
        switch (config.scoring()) {
            case SIGMOID -> {
                for (int e = 0; e < experts; e++) {
                    scores[e] = (float) (1.0 / (1.0 + Math.exp(-logits[off + e])));
                }
            }
            case SQRT_SOFTPLUS -> {
                for (int e = 0; e < experts; e++) {
                    scores[e] = sqrtSoftplus(logits[off + e]);
                }
            }
            case SOFTMAX -> softmax(logits, off, scores);
        }
        if (tokenExperts != null) {
            System.arraycopy(tokenExperts, token * k, ids, outOff, k);
        } else {
            for (int e = 0; e < experts; e++) {
                choice[e] = scores[e] + (correctionBias == null ? 0f : correctionBias[e]);
            }
            if (config.method() != RouterConfig.Method.GREEDY) {
                maskGroups(choice, buffers);
            }
            topK(choice, experts, k, ids, outOff);
        }
        double sum = 0;
        for (int i = 0; i < k; i++) {
            weights[outOff + i] = scores[ids[outOff + i]];
            sum += weights[outOff + i];
        }
        float denominator = (float) sum + 1e-20f;
        for (int i = 0; i < k; i++) {
            float w = config.normalizeTopK() ? weights[outOff + i] / denominator : weights[outOff + i];
            weights[outOff + i] = w * (float) config.routedScalingFactor();
        }
    }

    /**
     * Keeps the {@code topk_group} best groups of experts. V3 rates a group by the sum of its two best biased
     * scores and drops the others to -inf; V2's group-limited greedy rates by the best score and drops to 0.
     */
    private void maskGroups(float[] choice, Buffers buffers) {
        int groups = config.groups();
        int perGroup = experts / groups;
        boolean v3 = config.method() == RouterConfig.Method.NOAUX_TC;
        float[] groupScore = buffers.floats(2, groups);
        for (int g = 0; g < groups; g++) {
            float best = Float.NEGATIVE_INFINITY;
            float second = Float.NEGATIVE_INFINITY;
            for (int e = g * perGroup; e < (g + 1) * perGroup; e++) {
                if (choice[e] > best) {
                    second = best;
                    best = choice[e];
                } else if (choice[e] > second) {
                    second = choice[e];
                }
            }
            groupScore[g] = v3 ? best + (perGroup > 1 ? second : 0f) : best;
        }
        int[] keptGroups = buffers.ints(config.topKGroups());
        topK(groupScore, groups, config.topKGroups(), keptGroups, 0);
        float dropped = v3 ? Float.NEGATIVE_INFINITY : 0f;
        for (int e = 0; e < experts; e++) {
            if (!isChosen(keptGroups, 0, config.topKGroups(), e / perGroup)) {
                choice[e] = dropped;
            }
        }
    }

    /** The {@code k} largest of {@code values[0..n)}, best first, ties to the lower index. */
    private static void topK(float[] values, int n, int k, int[] out, int outOff) {
        for (int i = 0; i < k; i++) {
            int best = -1;
            for (int e = 0; e < n; e++) {
                if (isChosen(out, outOff, i, e)) {
                    continue;
                }
                if (best < 0 || values[e] > values[best]) {
                    best = e;
                }
            }
            out[outOff + i] = best;
        }
    }

    private static boolean isChosen(int[] chosen, int off, int count, int e) {
        for (int j = 0; j < count; j++) {
            if (chosen[off + j] == e) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code sqrt(softplus(x))} in float32 as torch computes it: softplus is {@code log1p(exp(x))}, and {@code x}
     * itself above 20. StrictMath, so every JVM and CPU gives the same bits.
     */
    static float sqrtSoftplus(float x) {
        float softplus = x > 20f ? x : (float) StrictMath.log1p(StrictMath.exp(x));
        return (float) Math.sqrt(softplus);
    }

    private void softmax(float[] logits, int off, float[] out) {
        float max = Float.NEGATIVE_INFINITY;
        for (int e = 0; e < experts; e++) {
            max = Math.max(max, logits[off + e]);
        }
        double sum = 0;
        for (int e = 0; e < experts; e++) {
            out[e] = (float) Math.exp(logits[off + e] - max);
            sum += out[e];
        }
        for (int e = 0; e < experts; e++) {
            out[e] = (float) (out[e] / sum);
        }
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    /**
     * Per-thread scratch (a router is shared by every engine in the JVM that runs its layer), grown to the largest
     * size asked; callers read only the first n entries.
     */
    private static final class Buffers {
        private final float[][] floats = {new float[0], new float[0], new float[0]};
        private int[] ints = new int[0];

        float[] floats(int which, int n) {
            if (floats[which].length < n) {
                floats[which] = new float[n];
            }
            return floats[which];
        }

        int[] ints(int n) {
            if (ints.length < n) {
                ints = new int[n];
            }
            return ints;
        }
    }
}
