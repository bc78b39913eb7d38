package io.moestream.operators.records;

/** A sequence that ended, as the Scheduler emits it for Detokenize. */
public class FinishedSequence {
    public String requestId;
    public int[] ids;
    public String text;
    public String finishReason;
    public int promptTokens;
    public String[] metadataKeys;
    public String[] metadataValues;
    public long receivedAtMillis;
    public long firstTokenAtMillis;
    public long finishedAtMillis;

    public FinishedSequence() {}
}
