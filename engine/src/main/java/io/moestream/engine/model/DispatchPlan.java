package io.moestream.engine.model;

/**
 * The routed-expert work of one MoE layer of a micro-batch: which expert each row chose (in rank order) with which
 * weight, grouped into one bundle per expert hit. A bundle's rows are laid out contiguously in {@link #input()}
 * ({@code [slots, hidden]}) in ascending row order, and its results are expected at the same slots of {@link
 * #output()}. This is what crosses the seam to the experts: locally a direct call, in the Flink job a keyed record.
 */
public final class DispatchPlan {
    private final int hidden;
    private final int topK;
    private int layer;
    private int rows;
    private int bundles;
    private final int[] bundleExpert;
    private final int[] bundleStart;
    /** For choice (row t, rank k): its slot in the bundle buffers. */
    private final int[] choiceSlot;

    private final float[] input;
    private final float[] output;
    /** Per expert: rows routed to it, then the next free slot of its bundle (reused by every build). */
    private final int[] counts;

    private final int[] next;

    DispatchPlan(int capacity, int topK, int experts, int hidden) {
        this.hidden = hidden;
        this.topK = topK;
        this.bundleExpert = new int[Math.max(1, experts)];
        this.bundleStart = new int[Math.max(1, experts) + 1];
        this.choiceSlot = new int[capacity * topK];
        this.input = new float[capacity * topK * hidden];
        this.output = new float[capacity * topK * hidden];
        this.counts = new int[Math.max(1, experts)];
        this.next = new int[Math.max(1, experts)];
    }

    /** Groups the rows' choices by expert (ascending expert id, rows ascending) and gathers their inputs. */
    void build(int layer, int rows, int[] expertIds, float[] xNorm, int experts) {
        this.layer = layer;
        this.rows = rows;
        java.util.Arrays.fill(counts, 0, experts, 0);
        for (int i = 0; i < rows * topK; i++) {
            counts[expertIds[i]]++;
        }
        bundles = 0;
        int slot = 0;
        for (int e = 0; e < experts; e++) {
            if (counts[e] > 0) {
                bundleExpert[bundles] = e;
                bundleStart[bundles] = slot;
                next[e] = slot;
                slot += counts[e];
                bundles++;
            }
        }
        bundleStart[bundles] = slot;
        for (int t = 0; t < rows; t++) {
            for (int k = 0; k < topK; k++) {
                int s = next[expertIds[t * topK + k]]++;
                choiceSlot[t * topK + k] = s;
                System.arraycopy(xNorm, t * hidden, input, s * hidden, hidden);
            }
        }
    }

    public int layer() {
        return layer;
    }

    public int rows() {
        return rows;
    }

    public int hiddenSize() {
        return hidden;
    }

    /** Number of experts hit. */
    public int bundleCount() {
        return bundles;
    }

    public int bundleExpert(int bundle) {
        return bundleExpert[bundle];
    }

    /** First slot of the bundle in {@link #input()}/{@link #output()}. */
    public int bundleStart(int bundle) {
        return bundleStart[bundle];
    }

    /** Rows (tokens) in the bundle. */
    public int bundleRows(int bundle) {
        return bundleStart[bundle + 1] - bundleStart[bundle];
    }

    /** The bundles' input rows, {@code [slots, hidden]}. */
    public float[] input() {
        return input;
    }

    /** Where the bundles' results go, {@code [slots, hidden]}. */
    public float[] output() {
        return output;
    }

    int choiceSlot(int row, int rank) {
        return choiceSlot[row * topK + rank];
    }

    /** Adds every bundle to {@code group}, each as one grouped GEMM over its rows. */
    void addBundles(ExpertProvider experts, FeedForwardGroup group) {
        for (int b = 0; b < bundles; b++) {
            int at = bundleStart[b] * hidden;
            group.add(experts.expert(layer, bundleExpert[b]), input, at, bundleRows(b), output, at);
        }
    }
}
