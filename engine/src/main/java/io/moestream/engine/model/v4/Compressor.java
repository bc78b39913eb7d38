package io.moestream.engine.model.v4;

import io.moestream.engine.model.RotaryEmbedding;
import io.moestream.engine.tensor.Kernels;
import io.moestream.engine.tensor.Linear;
import java.util.Arrays;

/**
 * One of V4's compressors (transformers' {@code DeepseekV4HCACompressor}, {@code DeepseekV4CSACompressor}, and the
 * Lightning Indexer's own): every {@code rate} tokens of the attention input become one compressed entry of width
 * {@code d}. Each token contributes {@code kv = x W_kv} and {@code gate = x W_gate + ape[slot]}; entry {@code w} is,
 * channel by channel, the softmax-over-slots of the gates times the kvs of its window, then RMS-normalised and roped
 * at the window's first position ({@code w * rate}) with the compress table.
 *
 * <p>With {@code overlap} (CSA and the indexer) the projections are {@code 2d} wide: the second half ("Cb") of a
 * window's tokens feeds its own entry, the first half ("Ca") the next window's, so entry {@code w} pools {@code 2 *
 * rate} slots: Ca of window {@code w-1} (none for the first window), then Cb of window {@code w}.
 *
 * <p>Tokens are fed one by one in position order ({@link #append}); a window's entry is emitted when its last token
 * arrives, from that window's tokens alone, so prefill in chunks of any size and decoding token by token give the
 * same bits. The per-sequence part lives in a {@link State}.
 */
final class Compressor {
    private final Linear kvProjection;
    private final Linear gateProjection;
    /** {@code position_bias}: {@code [rate, width]}, added to the gates by slot. */
    private final float[] ape;

    private final float[] norm;
    private final double eps;
    private final int rate;
    private final int d;
    private final boolean overlap;
    private final RotaryEmbedding rope;

    /**
     * @param kvProjection {@code [c * d, hidden]}, c = 2 with overlap, else 1
     * @param gateProjection likewise
     * @param ape {@code [rate, c * d]}
     * @param norm the entries' RMSNorm weight, {@code [d]}
     * @param rope the compress table, applied to an entry's last {@code rope.dim()} channels
     */
    Compressor(
            Linear kvProjection,
            Linear gateProjection,
            float[] ape,
            float[] norm,
            double eps,
            int rate,
            boolean overlap,
            RotaryEmbedding rope) {
        this.kvProjection = kvProjection;
        this.gateProjection = gateProjection;
        this.ape = ape;
        this.norm = norm;
        this.eps = eps;
        this.rate = rate;
        this.d = norm.length;
        this.overlap = overlap;
        this.rope = rope;
        int width = width();
        if (kvProjection.outFeatures() != width
                || gateProjection.outFeatures() != width
                || ape.length != rate * width) {
            throw new IllegalArgumentException("compressor shapes do not match rate " + rate + " and width " + width);
        }
    }

    Linear kvProjection() {
        return kvProjection;
    }

    Linear gateProjection() {
        return gateProjection;
    }

    int rate() {
        return rate;
    }

    /** The entries' width. */
    int entryWidth() {
        return d;
    }

    /** The projections' width: {@code 2d} with overlap, else {@code d}. */
    int width() {
        return overlap ? 2 * d : d;
    }

    long bytes() {
        return kvProjection.bytes() + gateProjection.bytes() + 4L * (ape.length + norm.length);
    }

    State newState() {
        return new State(rate, width(), overlap ? rate * d : 0, d);
    }

    /**
     * Feeds the next token of a sequence, at {@code position}: its projections {@code kv[kvOff .. + width)} and {@code
     * gate[gateOff ..]} (without the position bias). Emits an entry into {@code state} when the token closes a window.
     */
    void append(State state, int position, float[] kv, int kvOff, float[] gate, int gateOff, Scratch scratch) {
        if (position != state.tokens) {
            throw new IllegalStateException(
                    "compressor fed position " + position + " after " + state.tokens + " tokens: a pass was lost");
        }
        int width = width();
        int slot = state.tokens % rate;
        System.arraycopy(kv, kvOff, state.pendingKv, slot * width, width);
        System.arraycopy(gate, gateOff, state.pendingGate, slot * width, width);
        state.tokens++;
        if (slot == rate - 1) {
            emit(state, scratch);
        }
    }

    /** Entry {@code w} of the window just closed, from the pending tokens (and the previous window's Ca half). */
    private void emit(State state, Scratch scratch) {
        int width = width();
        int w = state.count;
        boolean previous = overlap && w > 0;
        float[] gates = scratch.gates;
        float[] values = scratch.values;
        float[] pooled = scratch.entry;
        for (int ch = 0; ch < d; ch++) {
            // Slots in transformers' order: Ca of the previous window (absent for the first), then this window.
            int n = 0;
            if (previous) {
                for (int s = 0; s < rate; s++) {
                    gates[n] = state.overlapGate[s * d + ch];
                    values[n] = state.overlapKv[s * d + ch];
                    n++;
                }
            }
            int half = overlap ? d : 0;
            for (int s = 0; s < rate; s++) {
                int at = s * width + half + ch;
                gates[n] = state.pendingGate[at] + ape[at];
                values[n] = state.pendingKv[at];
                n++;
            }
            pooled[ch] = poolChannel(gates, values, n);
        }
        if (overlap) {
            // This window's Ca half, gates with their position bias, for the next window.
            for (int s = 0; s < rate; s++) {
                for (int ch = 0; ch < d; ch++) {
                    int at = s * width + ch;
                    state.overlapKv[s * d + ch] = state.pendingKv[at];
                    state.overlapGate[s * d + ch] = state.pendingGate[at] + ape[at];
                }
            }
        }
        float[] entry = state.reserveEntry();
        int at = w * d;
        Kernels.rmsNorm(pooled, 0, norm, eps, entry, at, d);
        rope.cosSin(w * rate, scratch.cos, scratch.sin);
        rope.rotate(entry, at + d - rope.dim(), scratch.cos, scratch.sin);
        state.count++;
    }

    /**
     * {@code sum_s softmax(gates)[s] * values[s]} over {@code n} slots, in float32 as transformers: the weights are
     * {@code e^(g - max) / sum}, then multiplied into the values in slot order.
     */
    private static float poolChannel(float[] gates, float[] values, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int s = 0; s < n; s++) {
            max = Math.max(max, gates[s]);
        }
        float sum = 0;
        for (int s = 0; s < n; s++) {
            gates[s] = Kernels.exp(gates[s] - max);
            sum += gates[s];
        }
        float pooled = 0;
        for (int s = 0; s < n; s++) {
            pooled = Math.fma(gates[s] / sum, values[s], pooled);
        }
        return pooled;
    }

    /** Work space of {@link #append}, reused for every token; big enough for every compressor of a model. */
    static final class Scratch {
        final float[] gates;
        final float[] values;
        final float[] entry;
        final float[] cos;
        final float[] sin;

        Scratch(int maxSlots, int maxWidth, int ropeDim) {
            gates = new float[maxSlots];
            values = new float[maxSlots];
            entry = new float[maxWidth];
            cos = new float[ropeDim / 2];
            sin = new float[ropeDim / 2];
        }
    }

    /**
     * A sequence's side of one compressor: the tokens of the window in progress (raw projections, gates without their
     * position bias), the previous window's Ca half (with it), and every entry emitted so far.
     */
    static final class State {
        private final float[] pendingKv;
        private final float[] pendingGate;
        private final float[] overlapKv;
        private final float[] overlapGate;
        private final int d;
        private float[] entries;
        /** Tokens fed so far. */
        private int tokens;
        /** Entries emitted so far: {@code tokens / rate}. */
        private int count;

        State(int rate, int width, int overlapSize, int d) {
            this.pendingKv = new float[rate * width];
            this.pendingGate = new float[rate * width];
            this.overlapKv = new float[overlapSize];
            this.overlapGate = new float[overlapSize];
            this.d = d;
            this.entries = new float[4 * d];
        }

        /** Entries emitted: entry {@code w} is {@code entries()[w * d .. + d)}. */
        int count() {
            return count;
        }

        float[] entries() {
            return entries;
        }

        int tokens() {
            return tokens;
        }

        /** The entries array with room for one more, grown by doubling. */
        private float[] reserveEntry() {
            if ((count + 1) * d > entries.length) {
                entries = Arrays.copyOf(entries, Math.max((count + 1) * d, 2 * entries.length));
            }
            return entries;
        }

        void reset() {
            tokens = 0;
            count = 0;
        }

        long bytes() {
            return 4L
                    * (pendingKv.length + pendingGate.length + overlapKv.length + overlapGate.length + entries.length);
        }
    }
}
