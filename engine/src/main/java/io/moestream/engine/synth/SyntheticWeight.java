package io.moestream.engine.synth;

import io.moestream.engine.checkpoint.DType;

/**
 * One tensor of a synthetic checkpoint: its Hugging Face name and shape, and what kind of weight it is, which decides
 * its stored dtype and the scale of its random values.
 */
record SyntheticWeight(String name, long[] shape, Kind kind) {

    /**
     * Kinds of weights, scaled so that a forward pass stays well conditioned: activations keep a root mean square
     * near one through every layer, and different tokens route to different experts.
     */
    enum Kind {
        /** Token embeddings: unit variance, like the hidden states that follow. */
        EMBEDDING,
        /** RMSNorm weights: around 1.0 but not exactly, so that a norm applied in the wrong place shows. */
        NORM,
        /** A linear layer DeepSeek quantises to FP8: attention projections, dense MLP, experts, shared experts. */
        PROJECTION,
        /**
         * The output head, a linear layer DeepSeek keeps in BF16; four times a plain projection's scale, so that logits
         * spread over a few nats as a trained model's do and sampling settings make a difference.
         */
        HEAD,
        /** Router weights: twice a plain projection's scale, so that expert scores are far apart. */
        ROUTER,
        /** DeepSeek-V3's {@code e_score_correction_bias}, F32 as published: small, it nudges routing only. */
        ROUTER_BIAS;

        DType dtype() {
            return this == ROUTER_BIAS ? DType.F32 : DType.BF16;
        }
    }

    /** The tensor's values for {@code seed}: uniform with the variance its kind calls for. */
    float[] values(long seed) {
        int count = Math.toIntExact(elementCount());
        return switch (kind) {
            case EMBEDDING -> SeededUniform.values(seed, name, count, 0f, (float) Math.sqrt(3.0));
            case NORM -> SeededUniform.values(seed, name, count, 1f, 0.2f);
            case PROJECTION -> linear(seed, count, 1);
            case HEAD -> linear(seed, count, 4);
            case ROUTER -> linear(seed, count, 2);
            case ROUTER_BIAS -> SeededUniform.values(seed, name, count, 0f, 0.05f);
        };
    }

    /** Uniform with standard deviation {@code gain / sqrt(in_features)}: a gain of 1 keeps the input's scale. */
    private float[] linear(long seed, int count, double gain) {
        return SeededUniform.values(seed, name, count, 0f, (float) (gain * Math.sqrt(3.0 / shape[1])));
    }

    long elementCount() {
        long n = 1;
        for (long dim : shape) {
            n *= dim;
        }
        return n;
    }
}
