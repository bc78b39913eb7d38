package io.moestream.operators.records;

import org.apache.flink.api.common.typeinfo.TypeInfo;

/**
 * The token rows of one micro-batch that chose one routed expert, on their way to the Experts subtask that owns
 * {@code (layer, expert)}. {@code input} is {@code [rows, hidden]} row-major.
 */
@TypeInfo(ExpertBundleSerializer.Factory.class)
public class ExpertBundle {
    public int originSubtask;
    public long passId;
    public int layer;
    public int expert;
    public int bundleIndex;
    public int rows;
    /**
     * Bundles of this pass and layer sent to the same Experts subtask, this one included: the subtask computes them
     * together once it has them all (two parallel regions for all, instead of two per bundle).
     */
    public int groupSize;

    public float[] input;

    public ExpertBundle() {}

    /** The key of the Experts operator: one integer per (layer, expert). */
    public static int expertKey(int layer, int expert, int expertsPerLayer) {
        return layer * expertsPerLayer + expert;
    }
}
