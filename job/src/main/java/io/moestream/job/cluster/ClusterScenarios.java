package io.moestream.job.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.synth.SyntheticModel;
import io.moestream.job.MoeStreamJob;
import io.moestream.job.Workload;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The distributed story on real processes: the failover scenario ({@code cluster chaos}: a TaskManager killed with
 * SIGKILL while requests are served, a new one started, the job restored from its last checkpoint) and the rescale
 * scenario ({@code cluster rescale}: stop with a savepoint at parallelism 2, resume at 3 on 3 TaskManagers). Both
 * serve a tiny DeepSeek-V4 model with FP4 experts over a Kafka broker process, read every completion under {@code
 * read_committed}, and compare each with the local generator's (the job must give the same bytes whatever its failure
 * history).
 */
public final class ClusterScenarios {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String REQUESTS = "requests";
    private static final String COMPLETIONS = "completions";
    private static final String DEAD_LETTERS = "dead-letters";
    private static final Duration SERVE_TIMEOUT = Duration.ofMinutes(10);

    /** The job's default topics (flink-conf/config.yaml) with their partitions. */
    public static final Map<String, Integer> TOPICS = Map.of(REQUESTS, 4, COMPLETIONS, 4, DEAD_LETTERS, 1);

    /** The scenario's line: what the contract of {@code cluster chaos} and {@code cluster rescale} prints. */
    public record Result(
            int requests, int completions, int duplicates, int lost, int mismatches, double restoreSeconds) {
        public boolean clean() {
            return duplicates == 0 && lost == 0 && mismatches == 0 && completions == requests;
        }

        public String json() {
            ObjectNode node = JSON.createObjectNode();
            node.put("requests", requests);
            node.put("completions", completions);
            node.put("duplicates", duplicates);
            node.put("lost", lost);
            node.put("mismatches", mismatches);
            node.put("restore_seconds", Math.round(restoreSeconds * 100) / 100.0);
            return node.toString();
        }
    }

    private final Path dir;
    private final PrintStream log;

    /**
     * @param dir the working folder (model, cluster, logs)
     * @param log where progress goes (standard error)
     */
    public ClusterScenarios(Path dir, PrintStream log) {
        this.dir = dir;
        this.log = log;
    }

    /** The failover scenario with {@code requests} requests on {@code taskManagers} TaskManagers. */
    public Result chaos(int requests, int taskManagers) throws Exception {
        Path model = model();
        List<String> lines = Workload.requests(requests, 17);
        log.println("chaos: computing the local generator's " + requests + " completions");
        Map<String, String> expected = Workload.expected(model, lines);
        try (LocalCluster cluster = startCluster(taskManagers)) {
            ClusterKafka kafka = new ClusterKafka(cluster.bootstrapServers());
            cluster.createTopics(TOPICS);
            kafka.produce(REQUESTS, lines);
            String job = submit(cluster, model, taskManagers, null);
            awaitCompletions(kafka, requests / 4, cluster, job);
            LocalCluster.Member victim =
                    cluster.taskManagers().get(cluster.taskManagers().size() - 1);
            log.println("chaos: killing " + victim.role() + " (pid " + victim.pid() + ") with SIGKILL");
            long killedAt = System.currentTimeMillis();
            cluster.kill(victim);
            cluster.startTaskManager();
            double restore = awaitRestore(cluster.rest(), job, killedAt);
            log.printf("chaos: restored from a checkpoint %.1f s after the kill%n", restore);
            awaitCompletions(kafka, requests, cluster, job);
            return check(kafka, expected, requests, restore, cluster.rest(), job);
        }
    }

    /** The rescale scenario: parallelism 2 on 2 TaskManagers, a savepoint, parallelism 3 on 3. */
    public Result rescale(int requests) throws Exception {
        Path model = model();
        List<String> lines = Workload.requests(requests, 23);
        log.println("rescale: computing the local generator's " + requests + " completions");
        Map<String, String> expected = Workload.expected(model, lines);
        try (LocalCluster cluster = startCluster(2)) {
            ClusterKafka kafka = new ClusterKafka(cluster.bootstrapServers());
            cluster.createTopics(TOPICS);
            kafka.produce(REQUESTS, lines);
            String prefix = "rescale-" + UUID.randomUUID();
            String job = submit(cluster, model, 2, null, prefix);
            awaitCompletions(kafka, requests / 3, cluster, job);
            long stoppedAt = System.currentTimeMillis();
            String savepoint = cluster.rest()
                    .stopWithSavepoint(job, dir.resolve("savepoints").toUri().toString(), Duration.ofMinutes(5));
            log.println("rescale: stopped with savepoint " + savepoint);
            cluster.startTaskManager();
            cluster.awaitTaskManagers(3, Duration.ofMinutes(2));
            String resumed = submit(cluster, model, 3, savepoint, prefix);
            awaitAllRunning(cluster.rest(), resumed, Duration.ofMinutes(3));
            double restore = (System.currentTimeMillis() - stoppedAt) / 1000.0;
            log.printf("rescale: running at parallelism 3 %.1f s after the stop%n", restore);
            awaitCompletions(kafka, requests, cluster, resumed);
            return check(kafka, expected, requests, restore, cluster.rest(), resumed);
        }
    }

    /** The tiny DeepSeek-V4 preset with FP4 experts, written once into the working folder. */
    private Path model() throws Exception {
        Path model = dir.resolve("model");
        if (!Files.isRegularFile(model.resolve("config.json"))) {
            SyntheticModel.write(
                    SyntheticModel.preset("deepseek_v4", "tiny"),
                    7,
                    model,
                    true,
                    SyntheticModel.DEFAULT_MAX_SHARD_BYTES,
                    true);
        }
        return model;
    }

    private LocalCluster startCluster(int taskManagers) throws Exception {
        log.println("starting a Kafka broker, a JobManager and " + taskManagers + " TaskManagers in "
                + dir.resolve("cluster"));
        LocalCluster cluster = LocalCluster.start(
                dir.resolve("cluster"), taskManagers, LocalCluster.Installation.ofRepository(), true);
        log.println("cluster up: " + cluster.restUrl() + ", Kafka at " + cluster.bootstrapServers());
        return cluster;
    }

    private String submit(LocalCluster cluster, Path model, int parallelism, String savepoint) throws Exception {
        return submit(cluster, model, parallelism, savepoint, "chaos-" + UUID.randomUUID());
    }

    /**
     * Submits the job jar with the scenario's settings: a small token budget and few sequences per Scheduler, so
     * that serving takes long enough for the failure to land in the middle of it.
     */
    private String submit(LocalCluster cluster, Path model, int parallelism, String savepoint, String prefix)
            throws Exception {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("moestream.model.dir", model.toAbsolutePath().toString());
        settings.put("moestream.kafka.bootstrap-servers", cluster.bootstrapServers());
        settings.put("moestream.kafka.topics.requests", REQUESTS);
        settings.put("moestream.kafka.topics.completions", COMPLETIONS);
        settings.put("moestream.kafka.topics.dead-letters", DEAD_LETTERS);
        settings.put("moestream.kafka.group-id", prefix);
        settings.put("moestream.kafka.transactional-id-prefix", prefix);
        settings.put("moestream.kafka.starting-offsets", "earliest");
        settings.put("moestream.scheduler.token-budget", "16");
        settings.put("moestream.scheduler.max-sequences", "2");
        settings.put("moestream.engine.threads", "1");
        return submit(cluster, parallelism, savepoint, settings);
    }

    /** Uploads {@code moestream-job.jar} and runs {@link MoeStreamJob} with {@code --key value} settings. */
    public static String submit(LocalCluster cluster, int parallelism, String savepoint, Map<String, String> settings)
            throws Exception {
        FlinkRest rest = cluster.rest();
        String jar = rest.uploadJar(cluster.installation().jobJar());
        List<String> arguments = new ArrayList<>();
        settings.forEach((key, value) -> {
            arguments.add("--" + key);
            arguments.add(value);
        });
        return rest.runJar(jar, MoeStreamJob.class.getName(), arguments, parallelism, savepoint);
    }

    private void awaitCompletions(ClusterKafka kafka, int count, LocalCluster cluster, String job) throws Exception {
        long deadline = System.nanoTime() + SERVE_TIMEOUT.toNanos();
        int seen = 0;
        while (true) {
            int distinct = (int) kafka.completions(COMPLETIONS).stream()
                    .map(c -> c.path("request_id").asText())
                    .distinct()
                    .count();
            if (distinct != seen) {
                log.println("  " + distinct + " completions committed");
                seen = distinct;
            }
            if (distinct >= count) {
                return;
            }
            String state = cluster.rest().job(job).path("state").asText();
            if (state.equals("FAILED") || state.equals("CANCELED")) {
                throw new IllegalStateException(
                        "the job is " + state + "; see " + cluster.dir().resolve("logs"));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only " + distinct + " of " + count + " completions after "
                        + SERVE_TIMEOUT.toMinutes() + " min");
            }
            Thread.sleep(1000);
        }
    }

    /** Seconds from the kill to the restore from a checkpoint, once every task runs again. */
    private static double awaitRestore(FlinkRest rest, String job, long killedAt) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode restored = rest.checkpoints(job).path("latest").path("restored");
            long at = restored.path("restore_timestamp").asLong(0);
            if (at > killedAt && rest.allRunning(job)) {
                return (at - killedAt) / 1000.0;
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("the job did not restore within 3 min of the kill");
    }

    private static void awaitAllRunning(FlinkRest rest, String job, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!rest.allRunning(job)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("job " + job + " did not run within " + timeout.toSeconds() + " s");
            }
            Thread.sleep(250);
        }
    }

    /**
     * Waits two more checkpoints (a duplicate would be committed with them), then counts: distinct request ids
     * answered, extra copies, requests without an answer, and answers that differ from the local generator's.
     */
    private Result check(
            ClusterKafka kafka,
            Map<String, String> expected,
            int requests,
            double restoreSeconds,
            FlinkRest rest,
            String job)
            throws Exception {
        long checkpoints =
                rest.checkpoints(job).path("counts").path("completed").asLong();
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (rest.checkpoints(job).path("counts").path("completed").asLong() < checkpoints + 2
                && System.nanoTime() < deadline) {
            Thread.sleep(250);
        }
        logExpertSpread(rest, job);
        List<JsonNode> completions = kafka.completions(COMPLETIONS);
        Map<String, Integer> copies = new HashMap<>();
        int mismatches = 0;
        for (JsonNode c : completions) {
            String id = c.path("request_id").asText();
            copies.merge(id, 1, Integer::sum);
            if (!Workload.signature(c).equals(expected.get(id))) {
                mismatches++;
            }
        }
        int distinct = copies.size();
        int duplicates = completions.size() - distinct;
        int lost = (int)
                expected.keySet().stream().filter(id -> !copies.containsKey(id)).count();
        rest.cancel(job);
        return new Result(requests, distinct, duplicates, lost, mismatches, restoreSeconds);
    }

    /** Each TaskManager holds only its share of the experts: their bytes by TaskManager, from its metrics. */
    private void logExpertSpread(FlinkRest rest, String job) throws Exception {
        Map<String, Long> bytes = rest.metricByTaskManager(job, "Experts", "expertBytesHeld", Duration.ofSeconds(30));
        long total = bytes.values().stream().mapToLong(Long::longValue).sum();
        bytes.forEach((taskManager, held) ->
                log.printf("  expert weights on TaskManager %s: %.2f MB%n", taskManager, held / 1e6));
        log.printf("  expert weights held in all: %.2f MB%n", total / 1e6);
    }
}
