package io.moestream.engine.model;

import io.moestream.engine.tensor.Kernels;
import io.moestream.engine.tensor.LinearBatch;
import io.moestream.engine.tensor.Parallel;
import java.util.Arrays;

/**
 * Feed-forward blocks, each on its own rows, computed together: the gates and ups of all of them as one parallel
 * region ({@link LinearBatch}), SwiGLU, then all the downs as a second one. A MoE layer's routed and shared experts
 * at decode time are a few small matrices each; run as two regions instead of three per expert, the threads spend
 * the step streaming weights rather than handing off work. Each output keeps its own kernels' order, so the bits are
 * those of computing the blocks one by one.
 *
 * <p>Not thread-safe: one per caller (a forward pass, an expert operator). Its buffers grow to the largest group and
 * are then reused, so steady-state steps do not allocate.
 */
public final class FeedForwardGroup {
    private final LinearBatch products = new LinearBatch();
    private int size;
    private FeedForward[] blocks = new FeedForward[8];
    private float[][] inputs = new float[8][];
    private float[][] outputs = new float[8][];
    /** Per block: input offset, rows, output offset, offset of its gate/up activations in {@link #scratch}. */
    private int[] layout = new int[8 * 4];

    private float[] scratch = new float[0];

    /** {@code out[outOff + t*H ..] = ffn(in[inOff + t*H ..])} for {@code t < rows}, alone. */
    public void forward(FeedForward ffn, float[] in, int inOff, int rows, float[] out, int outOff, Parallel parallel) {
        clear();
        add(ffn, in, inOff, rows, out, outOff);
        run(parallel);
    }

    /** Forgets the blocks added so far. */
    public void clear() {
        Arrays.fill(blocks, 0, size, null);
        Arrays.fill(inputs, 0, size, null);
        Arrays.fill(outputs, 0, size, null);
        size = 0;
    }

    /** Adds {@code out[outOff + t*H ..] = ffn(in[inOff + t*H ..])} for {@code t < rows}, computed by {@link #run}. */
    public void add(FeedForward ffn, float[] in, int inOff, int rows, float[] out, int outOff) {
        if (size == blocks.length) {
            blocks = Arrays.copyOf(blocks, 2 * size);
            inputs = Arrays.copyOf(inputs, 2 * size);
            outputs = Arrays.copyOf(outputs, 2 * size);
            layout = Arrays.copyOf(layout, 2 * size * 4);
        }
        blocks[size] = ffn;
        inputs[size] = in;
        outputs[size] = out;
        layout[size * 4] = inOff;
        layout[size * 4 + 1] = rows;
        layout[size * 4 + 2] = outOff;
        size++;
    }

    /** Computes every block added since the last {@link #clear}. */
    public void run(Parallel parallel) {
        int needed = 0;
        for (int b = 0; b < size; b++) {
            layout[b * 4 + 3] = needed;
            needed += 2 * layout[b * 4 + 1] * blocks[b].intermediateSize();
        }
        if (scratch.length < needed) {
            scratch = new float[needed];
        }
        products.clear();
        for (int b = 0; b < size; b++) {
            FeedForward ffn = blocks[b];
            int hidden = ffn.hiddenSize();
            int inter = ffn.intermediateSize();
            int rows = layout[b * 4 + 1];
            int gateOff = layout[b * 4 + 3];
            products.add(ffn.gate(), inputs[b], layout[b * 4], hidden, rows, scratch, gateOff, inter);
            products.add(ffn.up(), inputs[b], layout[b * 4], hidden, rows, scratch, gateOff + rows * inter, inter);
        }
        products.run(parallel);
        products.clear();
        for (int b = 0; b < size; b++) {
            FeedForward ffn = blocks[b];
            int inter = ffn.intermediateSize();
            int rows = layout[b * 4 + 1];
            int gateOff = layout[b * 4 + 3];
            if (ffn.swigluLimit() == Float.POSITIVE_INFINITY) {
                Kernels.siluMul(scratch, gateOff, scratch, gateOff + rows * inter, rows * inter);
            } else {
                Kernels.siluMulClipped(
                        scratch, gateOff, scratch, gateOff + rows * inter, rows * inter, ffn.swigluLimit());
            }
            products.add(ffn.down(), scratch, gateOff, inter, rows, outputs[b], layout[b * 4 + 2], ffn.hiddenSize());
        }
        products.run(parallel);
        products.clear();
    }
}
