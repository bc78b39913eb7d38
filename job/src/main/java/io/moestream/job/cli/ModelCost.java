package io.moestream.job.cli;

import io.moestream.engine.checkpoint.Checkpoint;
import io.moestream.engine.checkpoint.WeightFormat;
import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.model.DenseModel;
import io.moestream.engine.model.TensorNames;
import io.moestream.engine.tensor.Linear;
import java.io.IOException;
import java.nio.file.Path;

/**
 * What a forward pass costs: the floating-point operations of a token (2 per multiply-add) and the bytes of weights
 * it reads, as loaded (bfloat16, float32 or 8-bit), for comparing the engine's speed with the machine's limits.
 */
final class ModelCost {
    private final ModelConfig config;
    /** Weights of the decoder layers and final norm: everything a pass reads but the embedding and the LM head. */
    private final long layerBytes;

    private final long lmHeadBytes;
    private final double projectionFlopsPerToken;

    private ModelCost(ModelConfig config, long layerBytes, long lmHeadBytes) {
        this.config = config;
        this.layerBytes = layerBytes;
        this.lmHeadBytes = lmHeadBytes;
        this.projectionFlopsPerToken = 2.0 * projectionMultiplyAddsPerToken(config);
    }

    /**
     * The bytes the embedding and the LM head take once loaded in {@code format} (as {@link Linear#bytes()} counts
     * them): loaded here once for that, so call it before the model itself, to keep them out of the peak memory.
     */
    record Tables(long embeddingBytes, long lmHeadBytes, boolean tied) {
        static Tables load(Path directory, ModelConfig c, WeightFormat format) throws IOException {
            Checkpoint checkpoint = Checkpoint.open(directory, c.fp8BlockSize(), format);
            long embedding = checkpoint
                    .linear(TensorNames.EMBED, c.vocabSize(), c.hiddenSize())
                    .bytes();
            boolean tied = c.tieWordEmbeddings() && !checkpoint.has(TensorNames.LM_HEAD);
            long lmHead = tied
                    ? embedding
                    : checkpoint
                            .linear(TensorNames.LM_HEAD, c.vocabSize(), c.hiddenSize())
                            .bytes();
            return new Tables(embedding, lmHead, tied);
        }
    }

    /** The cost model of {@code dense} (loaded in the format {@code tables} were measured in). */
    static ModelCost of(DenseModel dense, Tables tables) {
        long denseWithoutTables = dense.bytes() - tables.embeddingBytes() - (tables.tied() ? 0 : tables.lmHeadBytes());
        return new ModelCost(dense.config(), denseWithoutTables, tables.lmHeadBytes());
    }

    /** FLOPs of one token at {@code position} through every layer (its own experts included), LM head excluded. */
    double layerFlops(int position) {
        double attendedMultiplyAdds =
                (double) config.numHeads() * (position + 1) * (2L * config.kvLoraRank() + config.qkRopeHeadDim());
        return projectionFlopsPerToken + 2.0 * config.numLayers() * attendedMultiplyAdds;
    }

    /** FLOPs of one row of logits. */
    double lmHeadFlops() {
        return 2.0 * config.hiddenSize() * config.vocabSize();
    }

    /** Bytes of weights a pass reads outside the routed experts; the LM head only when some row wants logits. */
    long denseBytes(boolean withLmHead) {
        return layerBytes + (withLmHead ? lmHeadBytes : 0);
    }

    /** Multiply-adds of a token's matrix products, attention over the cache and LM head aside. */
    private static double projectionMultiplyAddsPerToken(ModelConfig c) {
        long hidden = c.hiddenSize();
        long heads = c.numHeads();
        long rank = c.kvLoraRank();
        long query = c.hasQLora()
                ? hidden * c.qLoraRank() + (long) c.qLoraRank() * heads * c.qkHeadDim()
                : hidden * heads * c.qkHeadDim();
        // Absorbed MLA: W_UK^T per head on the query, W_UV per head on the attended latent.
        long attention = query
                + hidden * (rank + c.qkRopeHeadDim())
                + heads * rank * c.qkNopeHeadDim()
                + heads * rank * c.vHeadDim()
                + heads * c.vHeadDim() * hidden;
        long expert = 3 * hidden * c.moeIntermediateSize();
        double total = 0;
        for (int layer = 0; layer < c.numLayers(); layer++) {
            total += attention;
            total += c.isMoeLayer(layer)
                    ? hidden * c.numRoutedExperts()
                            + expert * (c.numSharedExperts() + c.router().topK())
                    : 3 * hidden * c.intermediateSize();
        }
        return total;
    }
}
