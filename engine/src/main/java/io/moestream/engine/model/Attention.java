package io.moestream.engine.model;

import io.moestream.engine.tensor.Parallel;

/**
 * The attention block of one decoder layer: MLA over the compressed latent cache (DeepSeek-V2/V3) or V4's shared-KV
 * attention over a sliding window and compressed entries. It reads the normalised block input of each row of a
 * micro-batch, extends each row's {@link SequenceCache} and writes the block's output.
 */
public interface Attention {
    /**
     * Scratch of one micro-batch in flight, shared by all layers of a model (sized for every layer type it has), so a
     * forward pass does not allocate per step. Made once per {@link ForwardPass}.
     */
    interface Buffers {}

    /** Buffers for {@code capacity} rows, big enough for every attention layer of this block's model. */
    Buffers newBuffers(int capacity);

    /** Bytes of weights held. */
    long bytes();

    /**
     * Attention for the rows of a micro-batch: {@code out[t * hidden ..]} for every row {@code t}, from {@code
     * xNorm[t * hidden ..]}; rows of one sequence are consecutive positions in order (see {@link MicroBatch}).
     */
    void forward(int layer, float[] xNorm, MicroBatch batch, float[] out, Buffers buffers, Parallel parallel);

    /** Multiply-adds of one token at {@code position} (0-based): its projections and its attention over the context. */
    double multiplyAdds(int position);
}
