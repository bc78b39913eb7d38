package io.moestream.engine.config;

/**
 * How a MoE layer picks its experts.
 *
 * @param scoring {@code SIGMOID} (DeepSeek-V3), {@code SOFTMAX} (DeepSeek-V2) or {@code SQRT_SOFTPLUS} (DeepSeek-V4's
 *     default)
 * @param method {@code NOAUX_TC} (V3: bias-corrected group-limited top-k), {@code GREEDY} (V2, and V4 with its
 *     correction bias) or {@code GROUP_LIMITED_GREEDY} (V2)
 * @param topK experts per token
 * @param groups expert groups ({@code n_group}), 1 when not grouped
 * @param topKGroups groups kept per token ({@code topk_group})
 * @param normalizeTopK whether the chosen weights are renormalised to sum to one ({@code norm_topk_prob}, V3)
 * @param routedScalingFactor the factor applied to the routed experts' weights
 */
public record RouterConfig(
        Scoring scoring,
        Method method,
        int topK,
        int groups,
        int topKGroups,
        boolean normalizeTopK,
        double routedScalingFactor) {

    public enum Scoring {
        SIGMOID,
        SOFTMAX,
        /** {@code sqrt(softplus(logit))}, softplus as torch's (identity above 20). */
        SQRT_SOFTPLUS
    }

    public enum Method {
        NOAUX_TC,
        GREEDY,
        GROUP_LIMITED_GREEDY
    }
}
