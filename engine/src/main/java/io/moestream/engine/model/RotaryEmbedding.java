package io.moestream.engine.model;

import io.moestream.engine.config.RopeConfig;

/**
 * Rotary position embedding of the {@code qk_rope_head_dim} part of queries and keys, with transformers' inverse
 * frequencies (default or YaRN) and its cos/sin scale. Pair {@code i} is rotated by angle {@code pos * invFreq[i]};
 * the pairs are {@code (x[2i], x[2i+1])} in DeepSeek's interleaved layout and {@code (x[i], x[i+d/2])} otherwise.
 * The rotated pairs stay where they were: queries and keys share the layout, so their dot product is that of
 * transformers (which de-interleaves both).
 */
public final class RotaryEmbedding {
    private final int dim;
    private final float[] invFreq;
    private final float cosSinScale;
    private final boolean interleaved;

    public RotaryEmbedding(RopeConfig rope, int dim) {
        this.dim = dim;
        this.interleaved = rope.interleaved();
        this.cosSinScale = (float) rope.cosSinScale();
        this.invFreq = rope.isYarn() ? yarnInvFreq(rope, dim) : defaultInvFreq(rope.theta(), dim);
    }

    public int dim() {
        return dim;
    }

    /** {@code base^(-2i/d)} as transformers computes it in float32. */
    static float[] defaultInvFreq(double base, int dim) {
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            float exponent = (float) (2 * i) / dim;
            inv[i] = (float) (1.0 / (float) Math.pow(base, exponent));
        }
        return inv;
    }

    /** YaRN: interpolate low frequencies by {@code factor}, keep high ones, blend linearly in between. */
    static float[] yarnInvFreq(RopeConfig rope, int dim) {
        double base = rope.theta();
        double low = correctionDim(rope.betaFast(), dim, base, rope.originalMaxPositions());
        double high = correctionDim(rope.betaSlow(), dim, base, rope.originalMaxPositions());
        if (rope.truncate()) {
            low = Math.floor(low);
            high = Math.ceil(high);
        }
        low = Math.max(low, 0);
        high = Math.min(high, dim - 1);
        if (low == high) {
            high += 0.001; // transformers' guard against a zero-width ramp
        }
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            float posFreq = (float) Math.pow(base, (float) (2 * i) / dim);
            float extrapolation = 1.0f / posFreq;
            float interpolation = 1.0f / ((float) rope.factor() * posFreq);
            float ramp = (float) Math.min(1.0, Math.max(0.0, (i - low) / (high - low)));
            float extrapolationWeight = 1 - ramp;
            inv[i] = interpolation * (1 - extrapolationWeight) + extrapolation * extrapolationWeight;
        }
        return inv;
    }

    private static double correctionDim(double rotations, int dim, double base, int maxPositions) {
        return (dim * Math.log(maxPositions / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
    }

    /** Fills {@code cos[0..d/2)} and {@code sin[0..d/2)} for position {@code pos}, scaled as transformers does. */
    public void cosSin(int pos, float[] cos, float[] sin) {
        for (int i = 0; i < invFreq.length; i++) {
            float angle = invFreq[i] * (float) pos;
            cos[i] = (float) Math.cos(angle) * cosSinScale;
            sin[i] = (float) Math.sin(angle) * cosSinScale;
        }
    }

    /** Rotates {@code x[off .. off+dim)} in place. */
    public void rotate(float[] x, int off, float[] cos, float[] sin) {
        int half = dim / 2;
        for (int i = 0; i < half; i++) {
            int a = interleaved ? off + 2 * i : off + i;
            int b = interleaved ? a + 1 : a + half;
            float x1 = x[a];
            float x2 = x[b];
            x[a] = x1 * cos[i] - x2 * sin[i];
            x[b] = x2 * cos[i] + x1 * sin[i];
        }
    }
}
