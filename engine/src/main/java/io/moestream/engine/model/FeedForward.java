package io.moestream.engine.model;

import io.moestream.engine.tensor.Linear;

/**
 * A SwiGLU feed-forward block, {@code down(silu(gate(x)) * up(x))}: the dense MLP, a shared expert and a routed
 * expert are all this. {@link FeedForwardGroup} computes it; over many rows it is the grouped GEMM of an expert
 * bundle.
 */
public final class FeedForward {
    private final Linear gate;
    private final Linear up;
    private final Linear down;

    public FeedForward(Linear gate, Linear up, Linear down) {
        if (gate.inFeatures() != up.inFeatures()
                || gate.outFeatures() != up.outFeatures()
                || down.inFeatures() != gate.outFeatures()) {
            throw new IllegalArgumentException("inconsistent feed-forward shapes");
        }
        this.gate = gate;
        this.up = up;
        this.down = down;
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
