package io.moestream.engine.model.v4;

import io.moestream.engine.config.DeepSeekV4Config;
import io.moestream.engine.config.DeepSeekV4Config.AttentionType;
import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.model.SequenceCache;

/**
 * What a DeepSeek-V4 sequence keeps between forward passes, per layer (transformers' {@code DynamicSlidingWindowLayer},
 * {@code DeepseekV4HCACache}, {@code DeepseekV4CSACache}):
 *
 * <ul>
 *   <li>the sliding window: the last {@code W - 1} roped key/value rows (the query's own token completes the {@code
 *       W} keys), in a ring indexed by position;
 *   <li>HCA and CSA layers: their compressor's entries (every one so far, never evicted), the tokens of the window in
 *       progress and, for CSA, the previous window's overlap half;
 *   <li>CSA layers: the same for the Lightning Indexer's own compressor (its keys).
 * </ul>
 *
 * So the cache grows by {@code D / m'} floats per token in an HCA layer and {@code (D + Di) / m} in a CSA layer,
 * against MLA's {@code kv_lora_rank + qk_rope_head_dim} in every layer of V3; the window is a fixed cost.
 */
public final class V4Cache implements SequenceCache {
    private final int headDim;
    private final int windowRows;
    private final float[][] windows;
    private final Compressor.State[] compressors;
    private final Compressor.State[] indexers;
    private int length;

    V4Cache(ModelConfig config, Compressor[] compressors, Compressor[] indexers) {
        DeepSeekV4Config v4 = config.v4();
        this.headDim = v4.headDim();
        this.windowRows = v4.slidingWindow() - 1;
        int layers = config.numLayers();
        this.windows = new float[layers][windowRows * headDim];
        this.compressors = new Compressor.State[layers];
        this.indexers = new Compressor.State[layers];
        for (int l = 0; l < layers; l++) {
            if (compressors[l] != null) {
                this.compressors[l] = compressors[l].newState();
            }
            if (indexers[l] != null) {
                this.indexers[l] = indexers[l].newState();
            }
        }
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public void setLength(int newLength) {
        this.length = newLength;
    }

    @Override
    public void reset() {
        length = 0;
        for (int l = 0; l < windows.length; l++) {
            if (compressors[l] != null) {
                compressors[l].reset();
            }
            if (indexers[l] != null) {
                indexers[l].reset();
            }
        }
    }

    @Override
    public long bytes() {
        long total = 0;
        for (int l = 0; l < windows.length; l++) {
            total += 4L * windows[l].length;
            if (compressors[l] != null) {
                total += compressors[l].bytes();
            }
            if (indexers[l] != null) {
                total += indexers[l].bytes();
            }
        }
        return total;
    }

    /** Rows of the window ring: {@code W - 1}. */
    int windowRows() {
        return windowRows;
    }

    /** The ring of {@code layer}: position {@code p} (within the last {@code W - 1}) at row {@code p % (W - 1)}. */
    float[] window(int layer) {
        return windows[layer];
    }

    Compressor.State compressor(int layer) {
        return compressors[layer];
    }

    Compressor.State indexer(int layer) {
        return indexers[layer];
    }

    /**
     * Bytes a V4 sequence's cache holds at {@code tokens} positions (the window full from {@code W - 1} on), with
     * each compressor's pending window and overlap as fixed costs: the figure admission control reserves.
     */
    public static long bytesFor(ModelConfig config, int tokens) {
        DeepSeekV4Config v4 = config.v4();
        int d = v4.headDim();
        int di = v4.indexHeadDim();
        long floats = 0;
        for (int l = 0; l < config.numLayers(); l++) {
            floats += (long) (v4.slidingWindow() - 1) * d;
            AttentionType type = v4.layerType(l);
            if (type == AttentionType.HEAVILY_COMPRESSED) {
                int m = v4.hcaRate();
                floats += (long) tokens / m * d + 2L * m * d;
            } else if (type == AttentionType.COMPRESSED_SPARSE) {
                int m = v4.csaRate();
                // Entries, then pending windows (2d and 2di wide) and overlap halves of compressor and indexer.
                floats += (long) tokens / m * (d + di) + 2L * m * 2 * (d + di) + 2L * m * (d + di);
            }
        }
        return 4 * floats;
    }
}
