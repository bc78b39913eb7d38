package io.moestream.engine.model;

import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.tensor.LinearBatch;

/**
 * The buffers of one micro-batch in flight, sized for its row capacity and reused step after step, so a forward pass
 * does not allocate per token. A scheduler with several micro-batches in flight holds one per micro-batch.
 */
final class Workspace {
    private static final ThreadLocal<float[]> SCORES = ThreadLocal.withInitial(() -> new float[256]);

    final int capacity;
    final float[] hidden;
    final float[] xNorm;
    final float[] blockOut;
    final float[] q;
    final float[] qCompressed;
    final float[] kv;
    final float[] qLatent;
    final float[] outLatent;
    final float[] attnOut;
    /** The feed-forward blocks of the current layer (dense MLP, or shared and routed experts). */
    final FeedForwardGroup ffn = new FeedForwardGroup();
    /** Independent products of one step of attention, run as one parallel region. */
    final LinearBatch products = new LinearBatch();

    final float[] routerLogits;
    final int[] expertIds;
    final float[] expertWeights;
    final float[] cos;
    final float[] sin;

    Workspace(ModelConfig c, int capacity) {
        this.capacity = capacity;
        int h = c.hiddenSize();
        hidden = new float[capacity * h];
        xNorm = new float[capacity * h];
        blockOut = new float[capacity * h];
        q = new float[capacity * c.numHeads() * c.qkHeadDim()];
        qCompressed = new float[capacity * Math.max(1, c.qLoraRank())];
        kv = new float[capacity * (c.kvLoraRank() + c.qkRopeHeadDim())];
        qLatent = new float[capacity * c.numHeads() * c.kvLoraRank()];
        outLatent = new float[capacity * c.numHeads() * c.kvLoraRank()];
        attnOut = new float[capacity * c.numHeads() * c.vHeadDim()];
        int topK = Math.max(1, c.router().topK());
        routerLogits = new float[capacity * Math.max(1, c.numRoutedExperts())];
        expertIds = new int[capacity * topK];
        expertWeights = new float[capacity * topK];
        cos = new float[c.qkRopeHeadDim() / 2];
        sin = new float[c.qkRopeHeadDim() / 2];
    }

    /** A per-thread buffer for one row's attention scores. */
    static float[] scores(int positions) {
        float[] buffer = SCORES.get();
        if (buffer.length < positions) {
            buffer = new float[Math.max(positions, buffer.length * 2)];
            SCORES.set(buffer);
        }
        return buffer;
    }
}
