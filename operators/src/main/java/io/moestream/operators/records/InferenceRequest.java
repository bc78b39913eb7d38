package io.moestream.operators.records;

import io.moestream.engine.sampling.SamplingParams;
import java.util.List;

/**
 * A validated, tokenized request, as the Scheduler keeps it in keyed state (a Flink POJO: public fields, no-arg
 * constructor). Its metadata is copied to the completion unchanged.
 */
public class InferenceRequest {
    public String id;
    public int[] promptIds;
    public double temperature;
    public double topP;
    public int topK;
    public long seed;
    public int maxTokens;
    public String[] stop;
    public String[] metadataKeys;
    public String[] metadataValues;
    public long receivedAtMillis;
    /** Whether generation goes on past end-of-sequence tokens (benchmarks: exactly max_tokens). */
    public boolean ignoreEos;
    /** The record it came from, for a dead letter raised after decoding (a duplicate id). */
    public RawRecord source;

    public InferenceRequest() {}

    public SamplingParams samplingParams() {
        return new SamplingParams(temperature, topP, topK, seed, maxTokens, List.of(stop));
    }
}
