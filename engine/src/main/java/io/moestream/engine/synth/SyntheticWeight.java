package io.moestream.engine.synth;

import io.moestream.engine.checkpoint.DType;

/**
 * One tensor of a synthetic checkpoint: its published name, shape and stored dtype, and what kind of weight it is,
 * which decides the scale of its random values.
 *
 * @param experts for an {@link Kind#EXPERT_TABLE}, the experts its ids range over; else 0
 */
record SyntheticWeight(String name, long[] shape, Kind kind, DType dtype, int experts) {

    /** A weight stored as DeepSeek-V2/V3 publish its kind. */
    SyntheticWeight(String name, long[] shape, Kind kind) {
        this(name, shape, kind, kind == Kind.ROUTER_BIAS ? DType.F32 : DType.BF16, 0);
    }

    SyntheticWeight(String name, long[] shape, Kind kind, DType dtype) {
        this(name, shape, kind, dtype, 0);
    }

    /**
     * Kinds of weights, scaled so that a forward pass stays well conditioned: activations keep a root mean square
     * near one through every layer, and different tokens route to different experts.
     */
    enum Kind {
        /** Token embeddings: unit variance, like the hidden states that follow. */
        EMBEDDING,
        /** RMSNorm weights: around 1.0 but not exactly, so that a norm applied in the wrong place shows. */
        NORM,
        /** A linear layer DeepSeek quantises to FP8: attention projections, dense MLP, shared experts. */
        PROJECTION,
        /** A routed expert's projection: a plain projection, which DeepSeek-V4 releases in FP4. */
        EXPERT,
        /** A projection of DeepSeek-V4's compressors and indexer: plain, but released in BF16, never FP8. */
        COMPRESSOR,
        /**
         * The output head, a linear layer DeepSeek keeps in BF16; four times a plain projection's scale, so that logits
         * spread over a few nats as a trained model's do and sampling settings make a difference.
         */
        HEAD,
        /** Router weights: twice a plain projection's scale, so that expert scores are far apart. */
        ROUTER,
        /** DeepSeek-V3's {@code e_score_correction_bias}, F32 as published: small, it nudges routing only. */
        ROUTER_BIAS,
        /** DeepSeek-V4's hyper-connection mappings ({@code hc_*_fn}): mixing logits of unit scale. */
        MIXING,
        /** Their biases ({@code hc_*_base}), so that the streams are weighted unevenly from the start. */
        MIXING_BASE,
        /** Their per-output scales ({@code hc_*_scale}): between 0.5 and 1.5. */
        MIXING_SCALE,
        /** Per-head attention sink logits. */
        SINK,
        /** The compressors' position biases ({@code ape}), added to the gates by slot. */
        POSITION_BIAS,
        /** DeepSeek-V4's hash routing table {@code tid2eid}: distinct experts per token id. */
        EXPERT_TABLE
    }

    /** The tensor's values for {@code seed}: uniform with the variance its kind calls for. */
    float[] values(long seed) {
        int count = Math.toIntExact(elementCount());
        return switch (kind) {
            case EMBEDDING -> SeededUniform.values(seed, name, count, 0f, (float) Math.sqrt(3.0));
            case NORM -> SeededUniform.values(seed, name, count, 1f, 0.2f);
            case PROJECTION, EXPERT, COMPRESSOR, MIXING -> linear(seed, count, 1);
            case HEAD -> linear(seed, count, 4);
            case ROUTER -> linear(seed, count, 2);
            case ROUTER_BIAS -> SeededUniform.values(seed, name, count, 0f, 0.05f);
            case MIXING_BASE, SINK -> SeededUniform.values(seed, name, count, 0f, 1f);
            case MIXING_SCALE -> SeededUniform.values(seed, name, count, 1f, 0.5f);
            case POSITION_BIAS -> SeededUniform.values(seed, name, count, 0f, 0.5f);
            case EXPERT_TABLE -> expertTable(seed);
        };
    }

    /** Uniform with standard deviation {@code gain / sqrt(in_features)}: a gain of 1 keeps the input's scale. */
    private float[] linear(long seed, int count, double gain) {
        return SeededUniform.values(seed, name, count, 0f, (float) (gain * Math.sqrt(3.0 / shape[1])));
    }

    /**
     * {@code [vocab, topK]} expert ids, {@code topK} distinct ones per token: the first {@code topK} draws of a
     * Fisher-Yates shuffle of the experts, with the token's own uniform values.
     */
    private float[] expertTable(long seed) {
        int tokens = Math.toIntExact(shape[0]);
        int topK = Math.toIntExact(shape[1]);
        float[] uniform = SeededUniform.values(seed, name, tokens * topK, 0.5f, 0.5f);
        float[] out = new float[tokens * topK];
        int[] order = new int[experts];
        for (int v = 0; v < tokens; v++) {
            for (int e = 0; e < experts; e++) {
                order[e] = e;
            }
            for (int j = 0; j < topK; j++) {
                int pick = j + Math.min(experts - j - 1, (int) (uniform[v * topK + j] * (experts - j)));
                int swap = order[j];
                order[j] = order[pick];
                order[pick] = swap;
                out[v * topK + j] = order[j];
            }
        }
        return out;
    }

    long elementCount() {
        long n = 1;
        for (long dim : shape) {
            n *= dim;
        }
        return n;
    }
}
