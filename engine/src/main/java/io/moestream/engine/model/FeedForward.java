package io.moestream.engine.model;

import io.moestream.engine.tensor.Kernels;
import io.moestream.engine.tensor.Linear;
import io.moestream.engine.tensor.Parallel;

/**
 * A SwiGLU feed-forward block, {@code down(silu(gate(x)) * up(x))}: the dense MLP, a shared expert and a routed
 * expert are all this. {@link #forward} over many rows is the grouped GEMM of an expert bundle.
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

    /**
     * {@code out[outOff + t*H ..] = FFN(in[inOff + t*H ..])} for {@code t < rows}; {@code scratch} needs {@code 2 *
     * rows * intermediateSize} floats.
     */
    public void forward(float[] in, int inOff, int rows, float[] out, int outOff, float[] scratch, Parallel parallel) {
        int hidden = hiddenSize();
        int inter = intermediateSize();
        int upOff = rows * inter;
        gate.forward(in, inOff, hidden, rows, scratch, 0, inter, parallel);
        up.forward(in, inOff, hidden, rows, scratch, upOff, inter, parallel);
        Kernels.siluMul(scratch, 0, scratch, upOff, rows * inter);
        down.forward(scratch, 0, inter, rows, out, outOff, hidden, parallel);
    }
}
