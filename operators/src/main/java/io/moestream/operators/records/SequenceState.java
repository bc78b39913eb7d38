package io.moestream.operators.records;

/**
 * What the Scheduler checkpoints per request: the request and the ids generated so far (whose count is also the
 * sampler's position). No KV cache: on restore the sequence is prefilled again from these.
 */
public class SequenceState {
    public InferenceRequest request;
    public int[] generated;
    /** When the first token was sampled (epoch millis), 0 before. */
    public long firstTokenAtMillis;

    public SequenceState() {}

    public SequenceState(InferenceRequest request, int[] generated, long firstTokenAtMillis) {
        this.request = request;
        this.generated = generated;
        this.firstTokenAtMillis = firstTokenAtMillis;
    }
}
