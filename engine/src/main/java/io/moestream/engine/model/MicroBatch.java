package io.moestream.engine.model;

/**
 * The rows of one forward pass: for each row its token, its position in its sequence, and that sequence's cache.
 * Prefill chunks and decode steps of different sequences mix freely; rows of one sequence must be consecutive
 * positions in order. A reusable container: {@link #clear} and refill it for the next step.
 */
public final class MicroBatch {
    private int rows;
    private int[] tokens;
    private int[] positions;
    private SequenceCache[] caches;
    private boolean[] wantsLogits;

    public MicroBatch(int capacity) {
        tokens = new int[capacity];
        positions = new int[capacity];
        caches = new SequenceCache[capacity];
        wantsLogits = new boolean[capacity];
    }

    public void clear() {
        java.util.Arrays.fill(caches, 0, rows, null);
        rows = 0;
    }

    /** Appends a row; {@code logits} asks for this row's next-token logits. Returns the row index. */
    public int add(int token, int position, SequenceCache cache, boolean logits) {
        if (rows == tokens.length) {
            int grown = Math.max(1, rows * 2);
            tokens = java.util.Arrays.copyOf(tokens, grown);
            positions = java.util.Arrays.copyOf(positions, grown);
            caches = java.util.Arrays.copyOf(caches, grown);
            wantsLogits = java.util.Arrays.copyOf(wantsLogits, grown);
        }
        tokens[rows] = token;
        positions[rows] = position;
        caches[rows] = cache;
        wantsLogits[rows] = logits;
        return rows++;
    }

    public int rows() {
        return rows;
    }

    public int token(int row) {
        return tokens[row];
    }

    public int position(int row) {
        return positions[row];
    }

    public SequenceCache cache(int row) {
        return caches[row];
    }

    public boolean wantsLogits(int row) {
        return wantsLogits[row];
    }

    /** How many rows asked for logits. */
    public int logitRows() {
        int n = 0;
        for (int t = 0; t < rows; t++) {
            if (wantsLogits[t]) {
                n++;
            }
        }
        return n;
    }
}
