package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.synth.SyntheticModel;
import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.kafka.KafkaTestClients;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code backfill} and {@code run-kafka} against a real Kafka broker (KRaft, in this JVM). */
class KafkaCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path temp;

    static EmbeddedKafka kafka;
    static Path model;

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.start();
        model = temp.resolve("tiny");
        SyntheticModel.write(SyntheticModel.preset("deepseek_v3", "tiny"), 3, model, true);
    }

    @AfterAll
    static void stop() {
        if (kafka != null) {
            kafka.close();
        }
    }

    /** Topics {@code prefix-requests} (2 partitions), {@code prefix-completions} (2), {@code prefix-dead-letters}. */
    private static void topics(String prefix) throws Exception {
        KafkaTestClients.createJobTopics(kafka, prefix);
    }

    private static List<String> topicOptions(String prefix) {
        return List.of(
                "--bootstrap",
                kafka.bootstrapServers(),
                "--model",
                model.toString(),
                "--requests-topic",
                prefix + "-requests",
                "--completions-topic",
                prefix + "-completions",
                "--dead-letters-topic",
                prefix + "-dead-letters");
    }

    private static String[] args(String command, List<String> common, String... more) {
        List<String> all = new ArrayList<>();
        all.add(command);
        all.addAll(common);
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    /** JSON requests {@code prefix-from} ... {@code prefix-(to-1)}, keyed by id; a few tokens each. */
    private static Set<String> produce(String topic, String prefix, int from, int to) {
        Set<String> ids = new TreeSet<>();
        List<byte[][]> records = new ArrayList<>();
        for (int i = from; i < to; i++) {
            String id = prefix + "-" + i;
            String value = i % 2 == 0
                    ? "{\"id\": \"" + id + "\", \"prompt\": \"record " + i + "\", \"max_tokens\": " + (3 + i % 4)
                            + ", \"temperature\": 0}"
                    : "{\"id\": \"" + id + "\", \"messages\": [{\"role\": \"user\", \"content\": \"row " + i
                            + "\"}], \"max_tokens\": 4, \"seed\": " + i + "}";
            records.add(new byte[][] {bytes(id), bytes(value)});
            ids.add(id);
        }
        KafkaTestClients.produce(kafka, topic, records);
        return ids;
    }

    private static void produceRaw(String topic, String key, String value) {
        KafkaTestClients.produce(kafka, topic, List.<byte[][]>of(new byte[][] {bytes(key), bytes(value)}));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<ConsumerRecord<byte[], byte[]>> readCommitted(String topic, int expected, Duration timeout) {
        return KafkaTestClients.readCommitted(kafka, topic, expected, timeout);
    }

    /** The request ids of the completions, each once (a duplicate fails). */
    private static Set<String> completedIds(List<ConsumerRecord<byte[], byte[]>> records) throws Exception {
        Set<String> ids = new TreeSet<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            JsonNode completion = JSON.readTree(r.value());
            String id = completion.get("request_id").asText();
            assertEquals(id, new String(r.key(), StandardCharsets.UTF_8));
            assertTrue(ids.add(id), "duplicate completion of " + id);
        }
        return ids;
    }

    @Test
    void backfillServesTheRangeExactlyOnceAndShowsItsProgress() throws Exception {
        topics("bf");
        Set<String> ids = produce("bf-requests", "bf", 0, 10);
        produceRaw("bf-requests", "bf-bad", "{\"id\": \"bf-bad\", \"prompt\": \"x\", \"max_tokens\": 0}");

        CliRun run = CliRun.of(
                args("backfill", topicOptions("bf"), "--from", "earliest", "--to", "latest", "--parallelism", "2"));
        assertEquals(0, run.exitCode(), run.err());

        assertEquals(ids, completedIds(readCommitted("bf-completions", ids.size(), Duration.ofSeconds(30))));
        List<ConsumerRecord<byte[], byte[]>> letters = readCommitted("bf-dead-letters", 1, Duration.ofSeconds(10));
        assertEquals(1, letters.size());
        assertEquals(
                "OUT_OF_RANGE",
                JSON.readTree(letters.get(0).value()).get("code").asText());

        String err = run.err();
        assertTrue(err.contains("bf-requests, partitions 0: [0, "), err);
        assertTrue(err.contains(": 11 records; group moestream-backfill-"), err);
        assertTrue(
                err.contains("moestream backfill: 11/11 records (100%), 11 committed, 10 completions, 1 dead letter, "),
                err);
        assertTrue(
                err.lines()
                        .anyMatch(
                                l -> l.matches(
                                        "moestream backfill: done in [0-9.]+ s: 11 records, "
                                                + "10 completions, 1 dead letter, [1-9][0-9]* tokens generated \\([0-9.]+ tokens/s\\)")),
                err);
        assertTrue(err.contains("web UI: http://localhost:") || err.contains("REST API: http://localhost:"), err);
    }

    @Test
    void backfillOfAnEmptyRangeEndsAtOnceAndBadRangesAreUsageErrors() throws Exception {
        topics("empty");
        produce("empty-requests", "empty", 0, 2);
        // Before the first record: nothing to do, and no Flink job.
        CliRun empty = CliRun.of(args("backfill", topicOptions("empty"), "--to", "timestamp:0"));
        assertEquals(0, empty.exitCode(), empty.err());
        assertTrue(empty.err().contains(": 0 records; group"), empty.err());
        assertTrue(empty.err().contains("nothing to do"), empty.err());

        CliRun badFrom = CliRun.of(args("backfill", topicOptions("empty"), "--from", "yesterday"));
        assertEquals(MoeStreamCli.EXIT_USAGE, badFrom.exitCode());
        assertTrue(
                badFrom.err()
                        .startsWith("moestream: error: --from must be earliest, timestamp:MILLIS or "
                                + "offsets:P=O,..., got 'yesterday'"),
                badFrom.err());
        CliRun badPartition = CliRun.of(args("backfill", topicOptions("empty"), "--to", "offsets:7=1"));
        assertEquals(MoeStreamCli.EXIT_USAGE, badPartition.exitCode(), badPartition.err());
        assertTrue(
                badPartition.err().contains("--to names partition 7, but empty-requests has partitions [0, 1]"),
                badPartition.err());
    }

    @Test
    void runKafkaServesUntilInterruptedThenStopsWithASavepointThatTheNextRunResumesFrom() throws Exception {
        topics("rk");
        Path state = temp.resolve("rk-state");
        List<String> common = new ArrayList<>(topicOptions("rk"));
        common.addAll(List.of("--group-id", "rk-group", "--state-dir", state.toString()));

        Set<String> first = produce("rk-requests", "rk", 0, 6);
        RunningCommand run = RunningCommand.start(args("run-kafka", common, "--parallelism", "2"));
        Set<String> second;
        CliRun stopped;
        try {
            assertEquals(first, completedIds(readCommitted("rk-completions", first.size(), Duration.ofSeconds(60))));
            // Requests that arrive just before the stop: taken or not, each is served exactly once over both runs.
            second = produce("rk-requests", "rk", 6, 10);
        } finally {
            stopped = run.interruptAndWait();
        }
        assertEquals(0, stopped.exitCode(), stopped.err());
        assertTrue(
                stopped.err().contains("from the group's committed offsets (a new group: the earliest)"),
                stopped.err());
        assertTrue(stopped.err().contains("web UI: http://localhost:")
                || stopped.err().contains("REST API"));
        assertTrue(stopped.err().contains("stopped in "), stopped.err());
        String savepoint = Files.readString(state.resolve("latest-savepoint")).strip();
        assertTrue(stopped.err().contains("with savepoint " + savepoint + "; the next run resumes from it"));

        Set<String> third = produce("rk-requests", "rk", 10, 12);
        Set<String> all = new TreeSet<>(first);
        all.addAll(second);
        all.addAll(third);
        RunningCommand again = RunningCommand.start(args("run-kafka", common));
        CliRun stoppedAgain;
        try {
            assertEquals(all, completedIds(readCommitted("rk-completions", all.size(), Duration.ofSeconds(60))));
        } finally {
            stoppedAgain = again.interruptAndWait();
        }
        assertEquals(0, stoppedAgain.exitCode(), stoppedAgain.err());
        assertTrue(stoppedAgain.err().contains(", from savepoint " + savepoint), stoppedAgain.err());
        try (Stream<Path> kept = Files.list(state)) {
            assertEquals(
                    1,
                    kept.filter(p -> p.getFileName().toString().startsWith("savepoint-"))
                            .count(),
                    "the older savepoint is deleted");
        }
    }

    @Test
    void runKafkaRefusesBadArgumentsAndAMissingTopicBeforeStartingFlink() {
        CliRun noBootstrap = CliRun.of("run-kafka", "--model", model.toString());
        assertEquals(MoeStreamCli.EXIT_USAGE, noBootstrap.exitCode());
        assertTrue(noBootstrap.err().contains("Missing required option: '--bootstrap=HOST:PORT'"), noBootstrap.err());

        List<String> common = topicOptions("none");
        CliRun format = CliRun.of(args("run-kafka", common, "--format", "xml"));
        assertEquals(MoeStreamCli.EXIT_USAGE, format.exitCode());
        assertTrue(format.err().startsWith("moestream: error: --format must be json or avro, got 'xml'"));

        CliRun parallelism = CliRun.of(args("run-kafka", common, "--parallelism", "0"));
        assertEquals(MoeStreamCli.EXIT_USAGE, parallelism.exitCode());

        CliRun missing = CliRun.of(args("run-kafka", common));
        assertEquals(MoeStreamCli.EXIT_RUNTIME_ERROR, missing.exitCode());
        assertEquals(
                "moestream: error: the requests topic 'none-requests' does not exist on " + kafka.bootstrapServers()
                        + " (create it, or name another with --requests-topic)",
                missing.err().strip());

        CliRun unreachable = CliRun.of(
                "run-kafka",
                "--bootstrap",
                "localhost:1",
                "--model",
                model.toString(),
                "-D",
                "moestream.kafka.properties.default.api.timeout.ms=1500");
        assertEquals(MoeStreamCli.EXIT_RUNTIME_ERROR, unreachable.exitCode());
        assertTrue(
                unreachable.err().startsWith("moestream: error: cannot reach Kafka at localhost:1: "),
                unreachable.err());
        assertEquals(1, unreachable.err().strip().lines().count(), unreachable.err());
    }

    /** A command that runs until interrupted, on a thread of its own, as {@code ./moestream} runs it until Ctrl-C. */
    private record RunningCommand(Thread thread, CompletableFuture<CliRun> result) {
        static RunningCommand start(String... args) {
            CompletableFuture<CliRun> result = new CompletableFuture<>();
            Thread thread = new Thread(
                    () -> {
                        try {
                            result.complete(CliRun.of(args));
                        } catch (Throwable t) {
                            result.completeExceptionally(t);
                        }
                    },
                    "run-kafka-under-test");
            thread.start();
            return new RunningCommand(thread, result);
        }

        /** Interrupts the command (what its shutdown hook does on SIGTERM) and waits for it to end. */
        CliRun interruptAndWait() throws Exception {
            boolean early = result.isDone();
            thread.interrupt();
            CliRun run = result.get(90, TimeUnit.SECONDS);
            assertFalse(early, () -> "the command ended before it was interrupted: " + run.err());
            return run;
        }
    }
}
