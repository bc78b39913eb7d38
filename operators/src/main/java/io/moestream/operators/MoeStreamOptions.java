package io.moestream.operators;

import io.moestream.engine.checkpoint.WeightFormat;
import io.moestream.schemas.WireFormat;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;

/** The job's settings, under {@code moestream.*}: settable in Flink's {@code config.yaml} or with {@code -D}. */
public final class MoeStreamOptions {
    public static final ConfigOption<String> MODEL_DIR = ConfigOptions.key("moestream.model.dir")
            .stringType()
            .noDefaultValue()
            .withDescription("Hugging Face model directory (config.json, *.safetensors, tokenizer files), "
                    + "readable on every TaskManager.");

    public static final ConfigOption<WeightFormat> WEIGHT_FORMAT = ConfigOptions.key("moestream.model.weight-format")
            .enumType(WeightFormat.class)
            .defaultValue(WeightFormat.STORED)
            .withDescription("Form of the linear weights in memory: STORED (bfloat16 stays bfloat16, other formats "
                    + "become float32) or Q8 (8-bit, blocks of 32 with a float32 scale, quantised on load: about "
                    + "half the bytes of bfloat16 to read per token, with a small loss of precision).");

    public static final ConfigOption<Integer> TOKEN_BUDGET = ConfigOptions.key("moestream.scheduler.token-budget")
            .intType()
            .defaultValue(256)
            .withDescription("Most token rows in one micro-batch (decode steps plus prompt chunks).");

    public static final ConfigOption<Integer> MAX_SEQUENCES = ConfigOptions.key("moestream.scheduler.max-sequences")
            .intType()
            .defaultValue(64)
            .withDescription("Most sequences generating at once per Scheduler subtask.");

    public static final ConfigOption<Integer> MAX_WAITING = ConfigOptions.key("moestream.scheduler.max-waiting")
            .intType()
            .defaultValue(64)
            .withDescription("Admitted requests waiting for a sequence slot per Scheduler subtask; when full, "
                    + "the Scheduler stops taking input (backpressure).");

    public static final ConfigOption<Long> KV_BUDGET_BYTES = ConfigOptions.key("moestream.scheduler.kv-budget-bytes")
            .longType()
            .defaultValue(1L << 30)
            .withDescription("Most KV-cache bytes per Scheduler subtask; a sequence is activated only if its "
                    + "prompt plus max_tokens fit.");

    public static final ConfigOption<Integer> MICRO_BATCHES_IN_FLIGHT = ConfigOptions.key(
                    "moestream.scheduler.micro-batches-in-flight")
            .intType()
            .defaultValue(2)
            .withDescription("Micro-batches a Scheduler subtask keeps in flight, so that dense work overlaps "
                    + "the experts' work.");

    public static final ConfigOption<Boolean> PREFILL_FIRST = ConfigOptions.key("moestream.scheduler.prefill-first")
            .booleanType()
            .defaultValue(false)
            .withDescription("Micro-batches take prompt chunks before decode rows, and decode steps wait while any "
                    + "active sequence is still prefilling (as vLLM's prefill-first scheduling). Sequences then "
                    + "decode together, in one micro-batch, so every expert's weights are read once per step for "
                    + "all of them: more throughput for bounded jobs (backfills, benchmarks), at the cost of pauses "
                    + "in running sequences whenever new prompts arrive. Off: decode rows go first (steady "
                    + "inter-token latency).");

    public static final ConfigOption<Integer> ENGINE_THREADS = ConfigOptions.key("moestream.engine.threads")
            .intType()
            .defaultValue(1)
            .withDescription("Threads of each engine instance (each Scheduler and Experts subtask): keep "
                    + "slots x threads at or below the TaskManager's cores.");

    public static final ConfigOption<Integer> DEFAULT_MAX_TOKENS = ConfigOptions.key(
                    "moestream.request.default-max-tokens")
            .intType()
            .defaultValue(128)
            .withDescription("max_tokens of a request that does not say.");

    public static final ConfigOption<Integer> MAX_TOKENS_CAP = ConfigOptions.key("moestream.request.max-tokens-cap")
            .intType()
            .defaultValue(4096)
            .withDescription("Largest max_tokens a request may ask for; above it the request is a dead letter.");

    public static final ConfigOption<Integer> MAX_PROMPT_TOKENS = ConfigOptions.key(
                    "moestream.request.max-prompt-tokens")
            .intType()
            .defaultValue(8192)
            .withDescription("Longest prompt in tokens; longer ones (or longer than the model's context) are "
                    + "dead letters.");

    public static final ConfigOption<Integer> MAX_RECORD_BYTES = ConfigOptions.key("moestream.request.max-record-bytes")
            .intType()
            .defaultValue(1 << 20)
            .withDescription("Largest request record in bytes; larger ones are dead letters.");

    public static final ConfigOption<Boolean> INCLUDE_TIMINGS = ConfigOptions.key("moestream.output.include-timings")
            .booleanType()
            .defaultValue(false)
            .withDescription("Add wall-clock timings to each completion. Off by default: with them, a replay "
                    + "no longer writes byte-identical completions.");

    public static final ConfigOption<WireFormat> REQUEST_FORMAT = ConfigOptions.key("moestream.requests.format")
            .enumType(WireFormat.class)
            .defaultValue(WireFormat.JSON)
            .withDescription("Wire format of request records: JSON, or AVRO (single-object encoding, the schema "
                    + "fingerprint in every record).");

    public static final ConfigOption<List<String>> REQUEST_WRITER_SCHEMAS = ConfigOptions.key(
                    "moestream.requests.writer-schemas")
            .stringType()
            .asList()
            .defaultValues()
            .withDescription("Older CompletionRequest schemas (.avsc files) that producers may still write with: "
                    + "their records are resolved to the current schema. An unknown fingerprint is a dead letter.");

    public static final ConfigOption<WireFormat> COMPLETION_FORMAT = ConfigOptions.key("moestream.completions.format")
            .enumType(WireFormat.class)
            .defaultValue(WireFormat.JSON)
            .withDescription("Wire format of completion records: JSON or AVRO.");

    public static final ConfigOption<WireFormat> DEAD_LETTER_FORMAT = ConfigOptions.key("moestream.dead-letters.format")
            .enumType(WireFormat.class)
            .defaultValue(WireFormat.JSON)
            .withDescription("Wire format of dead-letter records on Kafka: JSON or AVRO.");

    public static final ConfigOption<Integer> FAIL_AFTER_BUNDLES = ConfigOptions.key(
                    "moestream.testing.fail-after-bundles")
            .intType()
            .defaultValue(-1)
            .withDescription("Testing only: the first attempt of each Experts subtask throws after this many "
                    + "bundles and a completed checkpoint, to exercise recovery. Negative disables it.");

    private MoeStreamOptions() {}

    /** The model directory, required. */
    public static String modelDir(ReadableConfig config) {
        return config.getOptional(MODEL_DIR)
                .orElseThrow(() -> new IllegalArgumentException(MODEL_DIR.key() + " is not set"));
    }
}
