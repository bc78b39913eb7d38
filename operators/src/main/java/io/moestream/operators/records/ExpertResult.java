package io.moestream.operators.records;

import org.apache.flink.api.common.typeinfo.TypeInfo;

/** An expert's output for one bundle, on its way back to the Scheduler subtask that sent it. */
@TypeInfo(ExpertResultSerializer.Factory.class)
public class ExpertResult {
    public int originSubtask;
    public long passId;
    public int layer;
    public int bundleIndex;
    public float[] output;

    public ExpertResult() {}
}
