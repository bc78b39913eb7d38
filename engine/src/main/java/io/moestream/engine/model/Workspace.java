package io.moestream.engine.model;

import io.moestream.engine.config.ModelConfig;

/**
 * The buffers of one micro-batch in flight, sized for its row capacity and reused step after step, so a forward pass
 * does not allocate per token. A scheduler with several micro-batches in flight holds one per micro-batch.
 */
final class Workspace {
    final int capacity;
    /** The rows' residual streams. */
    final Residual.Streams streams;
    /** The attention's scratch, shared by every layer. */
    final Attention.Buffers attention;

    final float[] xNorm;
    final float[] blockOut;
    /** The feed-forward blocks of the current layer (dense MLP, or shared and routed experts). */
    final FeedForwardGroup ffn = new FeedForwardGroup();

    final float[] routerLogits;
    final int[] expertIds;
    final float[] expertWeights;

    Workspace(DenseModel model, int capacity) {
        ModelConfig c = model.config();
        this.capacity = capacity;
        int h = c.hiddenSize();
        streams = model.residual().newStreams(capacity);
        attention = model.layer(0).attention().newBuffers(capacity);
        xNorm = new float[capacity * h];
        blockOut = new float[capacity * h];
        int topK = Math.max(1, c.router().topK());
        routerLogits = new float[capacity * Math.max(1, c.numRoutedExperts())];
        expertIds = new int[capacity * topK];
        expertWeights = new float[capacity * topK];
    }
}
