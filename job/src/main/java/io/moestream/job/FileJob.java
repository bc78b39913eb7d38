package io.moestream.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.job.topology.MoeStreamTopology;
import io.moestream.operators.MoeStreamOptions;
import io.moestream.operators.records.DeadLetter;
import io.moestream.operators.records.RawRecord;
import io.moestream.operators.scheduler.SchedulerOperator;
import io.moestream.schemas.WireFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.serialization.SimpleStringEncoder;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.reader.TextLineInputFormat;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;

/**
 * The job over files (the launcher's {@code run}): JSON Lines requests from a file, completions and dead letters to
 * JSON Lines files, on a local Flink MiniCluster. The file sinks are exactly once (their part files are committed on
 * checkpoints); when the job is done they are gathered into the output files, in input order.
 */
public final class FileJob {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Fixed, so that savepoints can be restored at another parallelism (the key groups stay the same). */
    public static final int MAX_PARALLELISM = 128;

    private FileJob() {}

    /** What a run produced. */
    public record Result(long completions, long deadLetters, long sequencesRestored, Duration elapsed) {}

    /**
     * The job's Flink settings: checkpoints every second (they commit the file sinks' output), restarts with a fixed
     * delay, then {@code options} on top.
     */
    public static Configuration jobConfiguration(Configuration options) {
        Configuration config = new Configuration();
        config.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(1));
        config.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        config.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        config.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        config.addAll(options);
        return config;
    }

    /** A local MiniCluster environment with {@code parallelism} slots and the {@link #jobConfiguration}. */
    public static StreamExecutionEnvironment localEnvironment(int parallelism, Configuration options) {
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironment(parallelism, jobConfiguration(options));
        env.setMaxParallelism(MAX_PARALLELISM);
        return env;
    }

    /**
     * Adds the file source, the topology and the file sinks to {@code env}. A {@code monitored} input is read as an
     * unbounded stream (new lines keep being picked up), as a long-running job would.
     */
    public static void build(
            StreamExecutionEnvironment env,
            Path input,
            Path completionsDir,
            Path deadLettersDir,
            Configuration options,
            boolean monitored)
            throws IOException {
        FileSource.FileSourceBuilder<String> builder = FileSource.forRecordStreamFormat(
                new TextLineInputFormat(), new org.apache.flink.core.fs.Path(input.toUri()));
        if (monitored) {
            builder.monitorContinuously(Duration.ofMillis(500));
        }
        FileSource<String> source = builder.build();
        String origin = input.getFileName().toString();
        DataStream<RawRecord> requests = env.fromSource(source, WatermarkStrategy.noWatermarks(), "requests")
                .uid("requests-source")
                .filter(line -> !line.isBlank())
                .name("SkipBlankLines")
                .map(line -> new RawRecord(null, line.getBytes(StandardCharsets.UTF_8), origin, -1, -1, 0))
                .returns(RawRecord.class)
                .name("ToRecords");
        Configuration jsonFiles = new Configuration(options);
        jsonFiles.set(MoeStreamOptions.REQUEST_FORMAT, WireFormat.JSON);
        jsonFiles.set(MoeStreamOptions.COMPLETION_FORMAT, WireFormat.JSON);
        MoeStreamTopology.Outputs outputs = MoeStreamTopology.build(requests, jsonFiles);
        outputs.completions()
                .map(record -> new String(record.value, StandardCharsets.UTF_8))
                .returns(Types.STRING)
                .name("CompletionLines")
                .sinkTo(sink(completionsDir))
                .name("CompletionsSink")
                .uid("completions-sink");
        outputs.deadLetters()
                .map(FileJob::deadLetterLine)
                .returns(Types.STRING)
                .name("DeadLetterLines")
                .sinkTo(sink(deadLettersDir))
                .name("DeadLettersSink")
                .uid("dead-letters-sink");
    }

    /** A dead letter of the file job: {@code {"code", "message", "original"}}, the original line as text. */
    static String deadLetterLine(DeadLetter letter) throws IOException {
        ObjectNode node = JSON.createObjectNode();
        node.put("code", letter.code);
        node.put("message", letter.message);
        node.put("original", new String(letter.original.value, StandardCharsets.UTF_8));
        return JSON.writeValueAsString(node);
    }

    /** Runs the job to completion and writes the output files. */
    public static Result run(
            Path model, Path input, Path output, Path deadLetters, int parallelism, Configuration extra)
            throws Exception {
        Configuration options = new Configuration();
        options.addAll(extra);
        options.set(MoeStreamOptions.MODEL_DIR, model.toAbsolutePath().toString());
        Path work = Files.createTempDirectory("moestream-run");
        try {
            StreamExecutionEnvironment env = localEnvironment(parallelism, options);
            build(env, input, work.resolve("completions"), work.resolve("dead-letters"), options, false);
            long start = System.nanoTime();
            JobExecutionResult job = env.execute("moestream run " + input.getFileName());
            Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
            Map<String, Integer> order = inputOrder(input);
            long completions = gather(work.resolve("completions"), output, order, "request_id");
            long dead = 0;
            if (deadLetters != null) {
                dead = gather(work.resolve("dead-letters"), deadLetters, Map.of(), null);
            }
            Long restored = job.getAccumulatorResult(SchedulerOperator.RESTORED_ACCUMULATOR);
            return new Result(completions, dead, restored == null ? 0 : restored, elapsed);
        } finally {
            deleteRecursively(work);
        }
    }

    /** The execution plan (JSON) of the job over {@code input}. */
    public static String plan(Path model, int parallelism, Configuration extra) throws IOException {
        Configuration options = new Configuration();
        options.addAll(extra);
        options.set(MoeStreamOptions.MODEL_DIR, model.toAbsolutePath().toString());
        StreamExecutionEnvironment env = localEnvironment(parallelism, options);
        Path none = Path.of("requests.jsonl");
        build(env, none, Path.of("completions"), Path.of("dead-letters"), options, false);
        return env.getExecutionPlan();
    }

    /** A file sink whose part files are committed at every checkpoint, so completed work becomes visible then. */
    private static FileSink<String> sink(Path dir) {
        return FileSink.forRowFormat(
                        new org.apache.flink.core.fs.Path(dir.toUri()), new SimpleStringEncoder<String>("UTF-8"))
                .withRollingPolicy(OnCheckpointRollingPolicy.build())
                .build();
    }

    /** Request ids in input order, for sorting the completions like the requests. */
    private static Map<String, Integer> inputOrder(Path input) throws IOException {
        Map<String, Integer> order = new HashMap<>();
        List<String> lines = Files.readAllLines(input, StandardCharsets.UTF_8);
        for (String line : lines) {
            try {
                JsonNode id = JSON.readTree(line).path("id");
                if (id.isTextual()) {
                    order.putIfAbsent(id.asText(), order.size());
                }
            } catch (IOException | RuntimeException e) {
                // A line that is not a request: its dead letter says why.
            }
        }
        return order;
    }

    /**
     * The lines of the committed part files of a file sink's directory (in-progress files start with a dot). Safe to
     * call while the job runs: an in-progress file renamed or removed during the walk is skipped, never an error.
     */
    public static List<String> committedLines(Path dir) throws IOException {
        List<Path> parts = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                    if (attributes.isRegularFile()
                            && !file.getFileName().toString().startsWith(".")) {
                        parts.add(file);
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE;
                    }
                    throw e;
                }
            });
        }
        parts.sort(null);
        List<String> lines = new ArrayList<>();
        for (Path part : parts) {
            lines.addAll(Files.readAllLines(part, StandardCharsets.UTF_8));
        }
        return lines;
    }

    /** Concatenates the committed part files of {@code dir} into {@code target}; sorted by input order if asked. */
    private static long gather(Path dir, Path target, Map<String, Integer> order, String idField) throws IOException {
        List<String> lines = committedLines(dir);
        if (idField != null) {
            // Parse each line's id once, not at every comparison.
            Map<String, Integer> rank = new HashMap<>();
            for (String line : lines) {
                rank.put(line, order.getOrDefault(idOf(line, idField), Integer.MAX_VALUE));
            }
            lines.sort(Comparator.comparingInt(rank::get));
        }
        Path parent = target.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.write(target, lines, StandardCharsets.UTF_8);
        return lines.size();
    }

    private static String idOf(String line, String field) {
        try {
            return JSON.readTree(line).path(field).asText();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
