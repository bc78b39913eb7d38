package io.moestream.engine.model.mla;

import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.model.SequenceCache;
import io.moestream.engine.tensor.SharedKeyAttention;
import java.util.Arrays;

/**
 * MLA's compressed KV cache of one sequence: per layer and position, the normalised {@code kv_lora_rank} latent and
 * the rotated {@code qk_rope_head_dim} key, never the expanded per-head keys and values. Storage grows by doubling,
 * so appending a token allocates only when the capacity runs out.
 *
 * <p>Each layer keeps two layouts, each for one half of attention ({@link SharedKeyAttention}): the latents row by row
 * ({@code latent[pos * rank + i]}, read by the weighted sum of values), and latent plus rope key in blocks of 8
 * positions, dimension-major ({@code keys[((pos / 8) * dims + d) * 8 + pos % 8]}, read by the scores, which then
 * compute 8 positions per vector FMA with no horizontal sums).
 */
public final class KvCache implements SequenceCache {
    private static final int BLOCK = SharedKeyAttention.BLOCK;

    private final int layers;
    private final int latentDim;
    private final int ropeDim;
    private final float[][] latent;
    private final float[][] keys;
    private int capacity;
    private int length;

    public KvCache(int layers, int latentDim, int ropeDim, int initialCapacity) {
        this.layers = layers;
        this.latentDim = latentDim;
        this.ropeDim = ropeDim;
        this.capacity = roundUp(Math.max(1, initialCapacity));
        this.latent = new float[layers][capacity * latentDim];
        this.keys = new float[layers][capacity * (latentDim + ropeDim)];
    }

    private static int roundUp(int positions) {
        return (positions + BLOCK - 1) / BLOCK * BLOCK;
    }

    @Override
    public int length() {
        return length;
    }

    public int latentDim() {
        return latentDim;
    }

    public int ropeDim() {
        return ropeDim;
    }

    @Override
    public long bytes() {
        return 4L * layers * capacity * (2L * latentDim + ropeDim);
    }

    /**
     * Bytes a V2/V3 sequence holds at {@code tokens} positions: per layer and position the latent twice (one copy per
     * layout) and the rope key, in float32.
     */
    public static long bytesFor(ModelConfig config, int tokens) {
        return 4L * config.numLayers() * tokens * (2L * config.kvLoraRank() + config.qkRopeHeadDim());
    }

    /** Makes room for positions up to {@code positions - 1}. */
    public void ensureCapacity(int positions) {
        if (positions <= capacity) {
            return;
        }
        int grown = roundUp(Math.max(positions, capacity * 2));
        for (int l = 0; l < layers; l++) {
            latent[l] = Arrays.copyOf(latent[l], grown * latentDim);
            keys[l] = Arrays.copyOf(keys[l], grown * (latentDim + ropeDim));
        }
        capacity = grown;
    }

    /** Stores position {@code pos} of {@code layer}: the latent at {@code src[latentOff..]}, the key at ropeOff. */
    public void write(int layer, int pos, float[] src, int latentOff, int ropeOff) {
        ensureCapacity(pos + 1);
        System.arraycopy(src, latentOff, latent[layer], pos * latentDim, latentDim);
        float[] k = keys[layer];
        int dims = latentDim + ropeDim;
        int at = (pos / BLOCK) * dims * BLOCK + pos % BLOCK;
        for (int d = 0; d < latentDim; d++) {
            k[at + d * BLOCK] = src[latentOff + d];
        }
        for (int d = 0; d < ropeDim; d++) {
            k[at + (latentDim + d) * BLOCK] = src[ropeOff + d];
        }
    }

    @Override
    public void setLength(int newLength) {
        this.length = newLength;
    }

    @Override
    public void reset() {
        truncate(0);
    }

    /** Forgets every position from {@code newLength} on (to recompute them, or to reuse the cache). */
    public void truncate(int newLength) {
        this.length = Math.min(length, newLength);
    }

    /** Row-major latents of {@code layer}. */
    float[] latent(int layer) {
        return latent[layer];
    }

    /** Latent and rope key of {@code layer} in blocks of 8 positions, dimension-major. */
    float[] keys(int layer) {
        return keys[layer];
    }
}
