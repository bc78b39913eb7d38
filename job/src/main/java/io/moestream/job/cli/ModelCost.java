package io.moestream.job.cli;

import io.moestream.engine.model.DenseModel;

/**
 * What a forward pass costs: the floating-point operations of a token (2 per multiply-add) and the bytes of weights
 * it reads, as loaded (bfloat16, float32 or 8-bit), for comparing the engine's speed with the machine's limits.
 */
final class ModelCost {
    private final DenseModel dense;
    /** Weights of the decoder layers and final norm: everything a pass reads but the embedding and the LM head. */
    private final long layerBytes;

    private final long lmHeadBytes;

    private ModelCost(DenseModel dense, long layerBytes, long lmHeadBytes) {
        this.dense = dense;
        this.layerBytes = layerBytes;
        this.lmHeadBytes = lmHeadBytes;
    }

    /** The cost model of {@code dense}, in the format it was loaded in. */
    static ModelCost of(DenseModel dense) {
        long lmHead = dense.lmHeadBytes();
        long denseWithoutTables = dense.bytes() - dense.embeddingBytes() - (dense.tiedHead() ? 0 : lmHead);
        return new ModelCost(dense, denseWithoutTables, lmHead);
    }

    /** FLOPs of one token at {@code position} through every layer (its own experts included), LM head excluded. */
    double layerFlops(int position) {
        return 2.0 * dense.layerMultiplyAdds(position);
    }

    /** FLOPs of one row of logits. */
    double lmHeadFlops() {
        return 2.0 * dense.config().hiddenSize() * dense.config().vocabSize();
    }

    /** Bytes of weights a pass reads outside the routed experts; the LM head only when some row wants logits. */
    long denseBytes(boolean withLmHead) {
        return layerBytes + (withLmHead ? lmHeadBytes : 0);
    }
}
