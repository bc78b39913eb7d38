package io.moestream.engine.model;

import io.moestream.engine.config.RouterConfig;
import io.moestream.engine.tensor.F32Linear;
import io.moestream.engine.tensor.Parallel;

/**
 * Picks each token's routed experts and their weights, as transformers' DeepSeek-V3 and -V2 routers do. The chosen
 * experts are returned in rank order (best choice first, ties to the lower expert index), the order in which the
 * combine adds their outputs (DESIGN.md section 3).
 */
public final class Router {
    private final RouterConfig config;
    /** The gate, {@code [experts, hidden]}, in float32 as transformers casts it. */
    private final F32Linear gate;
    /** DeepSeek-V3's {@code e_score_correction_bias}: shifts the selection only, never the weights. */
    private final float[] correctionBias;

    private final int experts;

    public Router(RouterConfig config, F32Linear gate, float[] correctionBias) {
        this.config = config;
        this.gate = gate;
        this.correctionBias = correctionBias;
        this.experts = gate.outFeatures();
    }

    public int topK() {
        return config.topK();
    }

    /**
     * Routes {@code rows} normalised hidden states: writes {@code expertIds[t*topK + k]} and {@code
     * weights[t*topK + k]}. {@code logits} needs {@code rows * experts} floats.
     */
    public void route(float[] hidden, int rows, float[] logits, int[] expertIds, float[] weights, Parallel parallel) {
        gate.forward(hidden, 0, gate.inFeatures(), rows, logits, 0, experts, parallel);
        Buffers buffers = BUFFERS.get();
        float[] scores = buffers.floats(0, experts);
        float[] choice = buffers.floats(1, experts);
        for (int t = 0; t < rows; t++) {
            routeRow(logits, t * experts, scores, choice, expertIds, weights, t * config.topK(), buffers);
        }
    }

    private void routeRow(
            float[] logits,
            int off,
            float[] scores,
            float[] choice,
            int[] ids,
            float[] weights,
            int outOff,
            Buffers buffers) {
        int k = config.topK();
        if (config.scoring() == RouterConfig.Scoring.SIGMOID) {
            for (int e = 0; e < experts; e++) {
                scores[e] = (float) (1.0 / (1.0 + Math.exp(-logits[off + e])));
                choice[e] = scores[e] + (correctionBias == null ? 0f : correctionBias[e]);
            }
        } else {
            softmax(logits, off, scores);
            System.arraycopy(scores, 0, choice, 0, experts);
        }
        if (config.method() != RouterConfig.Method.GREEDY) {
            maskGroups(choice, buffers);
        }
        topK(choice, experts, k, ids, outOff);
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
