package io.moestream.job.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.checkpoint.WeightFormat;
import io.moestream.job.FileJob;
import io.moestream.job.topology.MoeStreamTopology;
import io.moestream.operators.MoeStreamOptions;
import io.moestream.operators.records.EncodedRecord;
import io.moestream.operators.records.RawRecord;
import io.moestream.schemas.WireFormat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The batched bench through the Flink dataflow: the same {@link MoeStreamTopology} as the file and Kafka jobs, on a
 * local MiniCluster, fed {@code batch} requests whose prompts are {@link BatchBenchmark#prompts the bench's synthetic
 * ids} ({@code prompt_ids}), greedy, {@code max_tokens = genLen + 1} and {@code ignore_eos}: the prefill gives each
 * sequence its first token, then {@code genLen} decode steps, as in {@link BatchBenchmark}. The Scheduler runs
 * prefill-first (decode steps wait until every prompt is in), so all sequences decode in one micro-batch per step, as
 * the bare engine's bench does.
 *
 * <p>Phases come from the completions' timings (milliseconds): prefill from the first request's arrival to the last
 * first token, decode from there to the last sequence's end. One job per run; the TaskManager-wide model store stays
 * loaded between runs (one JVM), so only the first run pays for loading experts.
 */
final class FlinkBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A run's timings and ids; FLOPs and bytes are the bare engine's (the same work). */
    record Run(
            double prefillSeconds,
            double decodeSeconds,
            long decodeTokens,
            int[][] generated,
            long prefillStartMillis,
            long decodeStartMillis,
            long decodeEndMillis) {}

    private final Path model;
    private final WeightFormat format;
    private final int vocab;
    private final int parallelism;
    private final int engineThreads;
    private final int promptLen;
    private final int genLen;
    private final int prefillRows;
    private final long seed;
    private final Configuration extra;

    FlinkBenchmark(
            Path model,
            WeightFormat format,
            int vocab,
            int parallelism,
            int engineThreads,
            int promptLen,
            int genLen,
            int prefillRows,
            long seed,
            Configuration extra) {
        this.model = model.toAbsolutePath();
        this.format = format;
        this.vocab = vocab;
        this.parallelism = parallelism;
        this.engineThreads = engineThreads;
        this.promptLen = promptLen;
        this.genLen = genLen;
        this.prefillRows = prefillRows;
        this.seed = seed;
        this.extra = extra;
    }

    /** The job settings of a run of {@code batch} sequences; {@code -D} settings of the command line win. */
    Configuration options(int batch) {
        Configuration options = new Configuration();
        options.set(MoeStreamOptions.ENGINE_THREADS, engineThreads);
        options.set(MoeStreamOptions.TOKEN_BUDGET, Math.max(prefillRows, batch));
        options.set(MoeStreamOptions.MAX_SEQUENCES, batch);
        options.set(MoeStreamOptions.MAX_WAITING, batch);
        options.set(MoeStreamOptions.KV_BUDGET_BYTES, Long.MAX_VALUE);
        options.set(MoeStreamOptions.PREFILL_FIRST, true);
        options.set(MoeStreamOptions.MAX_PROMPT_TOKENS, Math.max(promptLen, 1));
        options.set(MoeStreamOptions.MAX_TOKENS_CAP, genLen + 1);
        options.addAll(extra);
        options.set(MoeStreamOptions.MODEL_DIR, model.toString());
        options.set(MoeStreamOptions.WEIGHT_FORMAT, format);
        options.set(MoeStreamOptions.REQUEST_FORMAT, WireFormat.JSON);
        options.set(MoeStreamOptions.COMPLETION_FORMAT, WireFormat.JSON);
        options.set(MoeStreamOptions.INCLUDE_TIMINGS, true);
        return options;
    }

    Run run(int batch) throws Exception {
        int[][] prompts = BatchBenchmark.prompts(batch, promptLen, vocab, seed);
        List<RawRecord> requests = new ArrayList<>();
        for (int s = 0; s < batch; s++) {
            ObjectNode request = JSON.createObjectNode();
            request.put("id", id(s));
            ArrayNode ids = request.putArray("prompt_ids");
            for (int token : prompts[s]) {
                ids.add(token);
            }
            request.put("max_tokens", genLen + 1);
            request.put("temperature", 0);
            request.put("ignore_eos", true);
            requests.add(new RawRecord(null, JSON.writeValueAsBytes(request), "bench", -1, s, 0));
        }

        Configuration options = options(batch);
        // No checkpoints: nothing is committed, and the bench measures the dataflow's throughput.
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism, options);
        env.setMaxParallelism(FileJob.MAX_PARALLELISM);
        MoeStreamTopology.Outputs outputs = MoeStreamTopology.build(
                env.fromData(requests, TypeInformation.of(RawRecord.class)).name("BenchRequests"), options);
        // The MiniCluster runs in this JVM: the sink hands the records over in memory.
        DataStream<EncodedRecord> deadLetters = outputs.deadLetters()
                .map(letter -> new EncodedRecord(null, (letter.code + ": " + letter.message).getBytes(UTF_8)))
                .returns(EncodedRecord.class)
                .name("BenchDeadLetters");
        String runId = UUID.randomUUID().toString();
        Queue<EncodedRecord> gathered = new ConcurrentLinkedQueue<>();
        GATHERED.put(runId, gathered);
        try {
            outputs.completions().union(deadLetters).sinkTo(new Gather(runId)).name("BenchResults");
            env.execute("moestream bench, batch " + batch);
        } finally {
            GATHERED.remove(runId);
        }
        List<EncodedRecord> completions = new ArrayList<>(gathered);
        for (EncodedRecord record : completions) {
            if (record.key == null) {
                throw new IOException("the dataflow refused a bench request: " + new String(record.value, UTF_8));
            }
        }
        return measure(batch, completions);
    }

    private Run measure(int batch, List<EncodedRecord> completions) throws IOException {
        if (completions.size() != batch) {
            throw new IOException("the dataflow completed " + completions.size() + " of " + batch + " requests");
        }
        int[][] generated = new int[batch][];
        long firstReceived = Long.MAX_VALUE;
        long lastFirstToken = Long.MIN_VALUE;
        long lastFinished = Long.MIN_VALUE;
        long decodeTokens = 0;
        for (EncodedRecord record : completions) {
            JsonNode c = JSON.readTree(new String(record.value, UTF_8));
            int s = Integer.parseInt(c.get("request_id").asText().substring("bench-".length()));
            JsonNode ids = c.get("ids");
            generated[s] = new int[ids.size()];
            for (int i = 0; i < ids.size(); i++) {
                generated[s][i] = ids.get(i).asInt();
            }
            // The first token comes from the prefill; every further one from a decode step.
            decodeTokens += Math.max(0, ids.size() - 1);
            JsonNode timings = c.get("timings");
            long received = timings.get("received_at_ms").asLong();
            firstReceived = Math.min(firstReceived, received);
            lastFirstToken = Math.max(
                    lastFirstToken,
                    received + timings.get("time_to_first_token_ms").asLong());
            lastFinished =
                    Math.max(lastFinished, received + timings.get("total_ms").asLong());
        }
        // Millisecond timings: a phase shorter than that counts as a millisecond.
        return new Run(
                Math.max(1, lastFirstToken - firstReceived) / 1e3,
                Math.max(1, lastFinished - lastFirstToken) / 1e3,
                decodeTokens,
                generated,
                firstReceived,
                lastFirstToken,
                lastFinished);
    }

    /** Results of the runs in progress, by run id. */
    private static final Map<String, Queue<EncodedRecord>> GATHERED = new ConcurrentHashMap<>();

    /** A sink that adds each record to its run's queue in {@link #GATHERED}. */
    private static final class Gather implements Sink<EncodedRecord> {
        private static final long serialVersionUID = 1L;
        private final String runId;

        Gather(String runId) {
            this.runId = runId;
        }

        @Override
        public SinkWriter<EncodedRecord> createWriter(WriterInitContext context) {
            Queue<EncodedRecord> queue = GATHERED.get(runId);
            return new SinkWriter<>() {
                @Override
                public void write(EncodedRecord element, Context context) {
                    queue.add(element);
                }

                @Override
                public void flush(boolean endOfInput) {}

                @Override
                public void close() {}
            };
        }
    }

    private static String id(int sequence) {
        return String.format("bench-%05d", sequence);
    }
}
