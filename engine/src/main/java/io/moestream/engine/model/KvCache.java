package io.moestream.engine.model;

import java.util.Arrays;

/**
 * MLA's compressed KV cache of one sequence: per layer and position, the normalised {@code kv_lora_rank} latent and
 * the rotated {@code qk_rope_head_dim} key, never the expanded per-head keys and values. Storage grows by doubling,
 * so appending a token allocates only when the capacity runs out.
 */
public final class KvCache {
    private final int layers;
    private final int latentDim;
    private final int ropeDim;
    private final float[][] latent;
    private final float[][] ropeKey;
    private int capacity;
    private int length;

    public KvCache(int layers, int latentDim, int ropeDim, int initialCapacity) {
        this.layers = layers;
        this.latentDim = latentDim;
        this.ropeDim = ropeDim;
        this.capacity = Math.max(1, initialCapacity);
        this.latent = new float[layers][capacity * latentDim];
        this.ropeKey = new float[layers][capacity * ropeDim];
    }

    /** Positions cached (the same for every layer once a forward pass is done). */
    public int length() {
        return length;
    }

    public int latentDim() {
        return latentDim;
    }

    public int ropeDim() {
        return ropeDim;
    }

    /** Bytes held by this cache. */
    public long bytes() {
        return 4L * layers * capacity * (latentDim + ropeDim);
    }

    /** Makes room for positions up to {@code positions - 1}. */
    public void ensureCapacity(int positions) {
        if (positions <= capacity) {
            return;
        }
        int grown = Math.max(positions, capacity * 2);
        for (int l = 0; l < layers; l++) {
            latent[l] = Arrays.copyOf(latent[l], grown * latentDim);
            ropeKey[l] = Arrays.copyOf(ropeKey[l], grown * ropeDim);
        }
        capacity = grown;
    }

    /** Stores position {@code pos} of {@code layer}. */
    public void write(int layer, int pos, float[] src, int latentOff, int ropeOff) {
        ensureCapacity(pos + 1);
        System.arraycopy(src, latentOff, latent[layer], pos * latentDim, latentDim);
        System.arraycopy(src, ropeOff, ropeKey[layer], pos * ropeDim, ropeDim);
    }

    /** Marks positions {@code [0, newLength)} as filled (after every layer of a forward pass wrote them). */
    public void setLength(int newLength) {
        this.length = newLength;
    }

    /** Forgets every position from {@code newLength} on (to recompute them, or to reuse the cache). */
    public void truncate(int newLength) {
        this.length = Math.min(length, newLength);
    }

    float[] latent(int layer) {
        return latent[layer];
    }

    float[] ropeKey(int layer) {
        return ropeKey[layer];
    }
}
