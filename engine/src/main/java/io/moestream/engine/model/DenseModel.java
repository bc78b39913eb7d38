package io.moestream.engine.model;

import io.moestream.engine.checkpoint.Checkpoint;
import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.model.mla.MlaModel;
import io.moestream.engine.model.v4.V4Model;
import io.moestream.engine.tensor.Linear;
import java.io.IOException;
import java.util.List;

/**
 * Everything of a DeepSeek model but its routed experts: embeddings, every layer's norms, attention, dense MLP,
 * router and shared experts, the residual (plain or hyper-connected), the final norm and the LM head. Each family's
 * loader ({@link MlaModel} for V2/V3, {@link V4Model}) checks every tensor of the checkpoint, experts included (names
 * and shapes), so an incomplete or foreign checkpoint fails at load with the tensor's name.
 */
public final class DenseModel {
    private final ModelConfig config;
    private final Linear embedding;
    private final List<DecoderLayer> layers;
    private final Residual residual;
    private final float[] finalNorm;
    private final Linear lmHead;
    private final CacheLayout cacheLayout;

    /** How a family makes its per-sequence cache: an empty one with room for {@code initialCapacity} positions. */
    @FunctionalInterface
    public interface CacheLayout {
        SequenceCache newCache(int initialCapacity);
    }

    /**
     * @param lmHead the output head ({@code embedding} itself when tied)
     */
    public DenseModel(
            ModelConfig config,
            Linear embedding,
            List<DecoderLayer> layers,
            Residual residual,
            float[] finalNorm,
            Linear lmHead,
            CacheLayout cacheLayout) {
        this.config = config;
        this.embedding = embedding;
        this.layers = List.copyOf(layers);
        this.residual = residual;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
        this.cacheLayout = cacheLayout;
    }

    /** Loads the dense part of {@code config}'s family from {@code ckpt}. */
    public static DenseModel load(Checkpoint ckpt, ModelConfig config) throws IOException {
        return config.isV4() ? V4Model.load(ckpt, config) : MlaModel.load(ckpt, config);
    }

    public ModelConfig config() {
        return config;
    }

    DecoderLayer layer(int index) {
        return layers.get(index);
    }

    Linear embedding() {
        return embedding;
    }

    Residual residual() {
        return residual;
    }

    float[] finalNorm() {
        return finalNorm;
    }

    Linear lmHead() {
        return lmHead;
    }

    /** An empty cache for one sequence of this model. */
    public SequenceCache newCache(int initialCapacity) {
        return cacheLayout.newCache(initialCapacity);
    }

    /** Bytes a sequence's cache holds once it has {@code tokens} positions. */
    public long cacheBytes(int tokens) {
        return SequenceCache.bytesFor(config, tokens);
    }

    /** Bytes of the embedding table as held. */
    public long embeddingBytes() {
        return embedding.bytes();
    }

    /** Bytes of the LM head as held (the embedding's when tied). */
    public long lmHeadBytes() {
        return lmHead.bytes();
    }

    /** Whether the LM head is the embedding table. */
    public boolean tiedHead() {
        return lmHead == embedding;
    }

    /** Bytes of weights held (a tied LM head counted once). */
    public long bytes() {
        long total = embedding.bytes()
                + residual.bytes()
                + 4L * finalNorm.length
                + (lmHead == embedding ? 0 : lmHead.bytes());
        for (DecoderLayer layer : layers) {
            total += layer.bytes();
        }
        return total;
    }

    /**
     * Multiply-adds of one token at {@code position} through every layer: attention (projections and context),
     * router, shared experts or dense MLP, {@code num_experts_per_tok} routed experts and the residual mappings; the
     * LM head aside.
     */
    public double layerMultiplyAdds(int position) {
        double total = residual.multiplyAddsPerToken();
        long hidden = config.hiddenSize();
        for (DecoderLayer layer : layers) {
            total += layer.attention().multiplyAdds(position);
            if (layer.isMoe()) {
                total += hidden * config.numRoutedExperts()
                        + 3.0
                                * hidden
                                * config.moeIntermediateSize()
                                * config.router().topK();
                if (layer.sharedExperts() != null) {
                    total += 3.0 * hidden * layer.sharedExperts().intermediateSize();
                }
            } else {
                total += 3.0 * hidden * layer.denseMlp().intermediateSize();
            }
        }
        return total;
    }
}
