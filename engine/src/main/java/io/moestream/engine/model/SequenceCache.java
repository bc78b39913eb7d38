package io.moestream.engine.model;

import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.model.mla.KvCache;
import io.moestream.engine.model.v4.V4Cache;

/**
 * What one sequence keeps between forward passes so that a new token attends to the earlier ones without recomputing
 * them: MLA's compressed latents for DeepSeek-V2/V3 ({@link io.moestream.engine.model.mla.KvCache}), the sliding
 * window, compressed entries and compressor tails for V4 ({@link io.moestream.engine.model.v4.V4Cache}). Each model
 * makes its own ({@link DenseModel#newCache}); its attention blocks fill it. Never checkpointed: a restored sequence
 * is fed again from its first token and rebuilds it (DESIGN.md section 1).
 */
public interface SequenceCache {
    /** Positions cached (the same for every layer once a forward pass is done). */
    int length();

    /** Marks positions {@code [0, newLength)} as filled, after every layer of a forward pass wrote them. */
    void setLength(int newLength);

    /** Forgets every position: the sequence will be fed again from its first token. */
    void reset();

    /** Bytes this cache holds. */
    long bytes();

    /**
     * Bytes a sequence's cache of a {@code config} model holds once {@code tokens} positions are cached, from the
     * config alone (no weights needed): for admission budgets and for sizing a deployment.
     */
    static long bytesFor(ModelConfig config, int tokens) {
        return config.isV4() ? V4Cache.bytesFor(config, tokens) : KvCache.bytesFor(config, tokens);
    }
}
