package io.moestream.engine.model;

import io.moestream.engine.tensor.Linear;

/**
 * A SwiGLU feed-forward block, {@code down(silu(gate(x)) * up(x))}: the dense MLP, a shared expert and a routed
 * expert are all this. DeepSeek-V4 clips the pre-activations first ({@code gate <= limit}, {@code -limit <= up <=
 * limit}); without a limit (V2/V3) it is infinite. {@link FeedForwardGroup} computes it; over many rows it is the
 * grouped GEMM of an expert bundle.
 */
public final class FeedForward {
    private final Linear gate;
    private final Linear up;
    private final Linear down;
    private final float swigluLimit;

    public FeedForward(Linear gate, Linear up, Linear down) {
        this(gate, up, down, Float.POSITIVE_INFINITY);
    }

    /** @param swigluLimit the clip of the pre-activations, {@code +inf} for none */
    public FeedForward(Linear gate, Linear up, Linear down, float swigluLimit) {
        if (gate.inFeatures() != up.inFeatures()
                || gate.outFeatures() != up.outFeatures()
                || down.inFeatures() != gate.outFeatures()) {
            throw new IllegalArgumentException("inconsistent feed-forward shapes");
        }
        if (!(swigluLimit > 0)) {
            throw new IllegalArgumentException("swiglu limit must be positive, got " + swigluLimit);
        }
        this.gate = gate;
        this.up = up;
        this.down = down;
        this.swigluLimit = swigluLimit;
    }

    public int hiddenSize() {
        return gate.inFeatures();
    }

    public int intermediateSize() {
        return gate.outFeatures();
    }

    public long bytes() {
        return gate.bytes() + up.bytes() + down.bytes();
    }

    /** The clip of the pre-activations, {@code +inf} when there is none. */
    public float swigluLimit() {
        return swigluLimit;
    }

    Linear gate() {
        return gate;
    }

    Linear up() {
        return up;
    }

    Linear down() {
        return down;
    }
}
