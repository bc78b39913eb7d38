package io.moestream.operators.records;

/** An expert's output for one bundle, on its way back to the Scheduler subtask that sent it. */
public class ExpertResult {
    public int originSubtask;
    public long passId;
    public int layer;
    public int bundleIndex;
    public float[] output;

    public ExpertResult() {}
}
