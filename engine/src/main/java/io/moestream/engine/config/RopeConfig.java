package io.moestream.engine.config;

/**
 * Rotary position embedding parameters, normalised from either config style: the classic {@code rope_theta} +
 * {@code rope_scaling} pair, or the transformers-5 {@code rope_parameters} dict.
 *
 * @param type {@code "default"} or {@code "yarn"}
 * @param theta the base wavelength
 * @param factor YaRN context extension factor (1 for default rope)
 * @param originalMaxPositions YaRN pre-training context length
 * @param betaFast YaRN extrapolation boundary (default 32)
 * @param betaSlow YaRN interpolation boundary (default 1)
 * @param mscale YaRN {@code mscale}, 0 when absent
 * @param mscaleAllDim YaRN {@code mscale_all_dim}, 0 when absent
 * @param attentionFactor explicit YaRN {@code attention_factor}, or NaN to derive it
 * @param truncate whether YaRN rounds its correction range to whole dimensions (transformers default: true)
 * @param interleaved whether rotary pairs are (x0,x1),(x2,x3)... (DeepSeek's layout) rather than (x_i, x_{i+d/2})
 */
public record RopeConfig(
        String type,
        double theta,
        double factor,
        int originalMaxPositions,
        double betaFast,
        double betaSlow,
        double mscale,
        double mscaleAllDim,
        double attentionFactor,
        boolean truncate,
        boolean interleaved) {

    public boolean isYarn() {
        return "yarn".equals(type);
    }

    /** YaRN's magnitude correction, {@code 0.1 * m * ln(scale) + 1} (1 when not extending). */
    public static double yarnMscale(double scale, double m) {
        return scale <= 1 ? 1.0 : 0.1 * m * Math.log(scale) + 1.0;
    }

    /**
     * The factor that multiplies rope's cos and sin (transformers' {@code attention_factor}): explicit, or
     * {@code mscale(factor, mscale) / mscale(factor, mscale_all_dim)} when both are given, else {@code mscale(factor)}.
     */
    public double cosSinScale() {
        if (!isYarn()) {
            return 1.0;
        }
        if (!Double.isNaN(attentionFactor)) {
            return attentionFactor;
        }
        if (mscale != 0 && mscaleAllDim != 0) {
            return yarnMscale(factor, mscale) / yarnMscale(factor, mscaleAllDim);
        }
        return yarnMscale(factor, 1.0);
    }

    /** The extra factor MLA applies to its softmax scale: {@code mscale(factor, mscale_all_dim)^2} under YaRN. */
    public double softmaxScaleMultiplier() {
        if (!isYarn() || mscaleAllDim == 0) {
            return 1.0;
        }
        double m = yarnMscale(factor, mscaleAllDim);
        return m * m;
    }

    /** Plain rope of base {@code theta}. */
    static RopeConfig plain(double theta, int maxPositions, boolean interleaved) {
        return new RopeConfig("default", theta, 1, maxPositions, 32, 1, 0, 0, Double.NaN, true, interleaved);
    }

    /**
     * YaRN from a {@code rope_scaling} / {@code rope_parameters} dict, as transformers reads it: {@code factor} or
     * else {@code max_position_embeddings / original_max_position_embeddings} (the latter also read at the config's top
     * level when there), betas defaulting to 32 and 1 when absent or 0.
     *
     * @param top the config's top level, or null when only {@code params} counts
     * @param attentionFactor the {@code attention_factor} when the dict has none (NaN: derive it from the mscales)
     */
    static RopeConfig yarn(
            ConfigReader params,
            ConfigReader top,
            int maxPositions,
            double theta,
            double attentionFactor,
            boolean truncate,
            boolean interleaved) {
        int originalMax = top != null && top.has("original_max_position_embeddings")
                ? top.positive("original_max_position_embeddings", maxPositions)
                : params.positive("original_max_position_embeddings", maxPositions);
        double factor = params.has("factor") ? params.number("factor", 1) : (double) maxPositions / originalMax;
        return new RopeConfig(
                "yarn",
                theta,
                factor,
                originalMax,
                params.numberOrZeroDefault("beta_fast", 32),
                params.numberOrZeroDefault("beta_slow", 1),
                params.number("mscale", 0),
                params.number("mscale_all_dim", 0),
                params.has("attention_factor") ? params.number("attention_factor", 1) : attentionFactor,
                truncate,
                interleaved);
    }
}
