package io.moestream.engine.model;

import io.moestream.engine.tensor.Linear;
import io.moestream.engine.tensor.Parallel;

/**
 * How a model carries the residual between its blocks: one stream that each block's output is added to (DeepSeek-V2/V3,
 * {@link PlainResidual}), or V4's hyper-connected streams, collapsed into each block's input and mixed again with its
 * output ({@link io.moestream.engine.model.v4.HyperConnections}). The norms before blocks and before the LM head are
 * applied here, after the collapse.
 */
public interface Residual {
    /** The two blocks of a decoder layer. */
    enum Site {
        ATTENTION,
        FEED_FORWARD
    }

    /** The residual state of one micro-batch in flight, its rows' streams and what a block input left for its output. */
    interface Streams {
        /** Starts row {@code row} from the embedding of {@code token}. */
        void embed(int row, Linear embedding, int token);

        /** The input of the block at {@code (layer, site)} for rows {@code [0, rows)}, normalised: {@code xNorm[t * H]}. */
        void blockInput(int layer, Site site, int rows, float[] norm, double eps, float[] xNorm, Parallel parallel);

        /** Folds the block output {@code out[t * H ..]} into the streams of rows {@code [0, rows)}. */
        void blockOutput(int layer, Site site, int rows, float[] out);

        /** The final hidden state of row {@code row}, normalised by {@code norm}, into {@code dst[dstOff ..]}. */
        void headInput(int row, float[] norm, double eps, float[] dst, int dstOff);
    }

    /** The streams of a micro-batch of up to {@code capacity} rows. */
    Streams newStreams(int capacity);

    /** Bytes of weights held (0 for a plain residual). */
    long bytes();

    /** Multiply-adds of one token's residual mappings through the whole model (0 for a plain residual). */
    double multiplyAddsPerToken();
}
