package io.moestream.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.model.Model;
import io.moestream.job.topology.MoeStreamTopology;
import io.moestream.operators.MoeStreamOptions;
import io.moestream.operators.records.ExpertBundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.JobVertex;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The job on a real MiniCluster of 4 slots: expert sharding, the co-located loop, and rescaling from a savepoint. */
class ClusterTest {
    private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(4)
            .setConfiguration(REPORTER.addToConfiguration(new Configuration()))
            .build());

    @TempDir
    static Path shared;

    static Path model;
    static List<String> requests;
    static Map<String, String> expected;

    @BeforeAll
    static void prepare() throws Exception {
        model = JobFixtures.tinyModel(shared.resolve("model"));
        requests = JobFixtures.requests(40, 5);
        expected = JobFixtures.expected(model, requests);
    }

    private static Configuration options(Duration checkpointInterval) {
        Configuration options = new Configuration();
        options.set(MoeStreamOptions.MODEL_DIR, model.toString());
        options.set(MoeStreamOptions.TOKEN_BUDGET, 16);
        options.set(MoeStreamOptions.MAX_SEQUENCES, 4);
        options.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, checkpointInterval);
        return options;
    }

    private static StreamExecutionEnvironment environment(int parallelism, Configuration options) {
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(FileJob.jobConfiguration(options));
        env.setParallelism(parallelism);
        env.setMaxParallelism(FileJob.MAX_PARALLELISM);
        return env;
    }

    @Test
    void schedulerAndFeedbackTailShareCoLocationGroup(@TempDir Path dir) throws Exception {
        StreamExecutionEnvironment env = environment(3, options(Duration.ofSeconds(1)));
        FileJob.build(
                env, dir.resolve("in"), dir.resolve("out"), dir.resolve("dead"), options(Duration.ofSeconds(1)), false);
        JobGraph graph = env.getStreamGraph().getJobGraph();
        JobVertex scheduler = null;
        JobVertex tail = null;
        for (JobVertex v : graph.getVertices()) {
            if (v.getName().startsWith("Scheduler")) {
                scheduler = v;
            } else if (v.getName().startsWith("FeedbackTail")) {
                tail = v;
            }
        }
        assertNotNull(scheduler, "Scheduler heads its own vertex");
        assertNotNull(tail, "FeedbackTail heads its own vertex");
        assertNotNull(scheduler.getCoLocationGroup());
        assertEquals(scheduler.getCoLocationGroup(), tail.getCoLocationGroup());
        assertEquals(scheduler.getParallelism(), tail.getParallelism());
        assertEquals(MoeStreamTopology.LOOP_CO_LOCATION, "moestream-expert-loop");
    }

    /** Every expert key is served by one subtask, the one Flink's key groups assign it; each holds only its share. */
    @Test
    void expertsAreShardedByKeyGroups(@TempDir Path dir) throws Exception {
        int parallelism = 2;
        Configuration options = options(Duration.ofSeconds(1));
        StreamExecutionEnvironment env = environment(parallelism, options);
        Path input = JobFixtures.write(dir.resolve("requests.jsonl"), requests);
        FileJob.build(env, input, dir.resolve("out"), dir.resolve("dead"), options, false);
        JobID job = env.execute("sharding").getJobID();

        Map<String, Integer> ownerOfExpert = new HashMap<>();
        Map<Integer, Long> heldPerSubtask = new HashMap<>();
        Map<Integer, Long> heldBytesPerSubtask = new HashMap<>();
        for (Map.Entry<MetricGroup, Map<String, Metric>> e :
                REPORTER.getMetricsByGroup().entrySet()) {
            Map<String, String> vars = e.getKey().getAllVariables();
            if (!job.toString().equals(vars.get("<job_id>")) || !"Experts".equals(vars.get("<operator_name>"))) {
                continue;
            }
            int subtask = Integer.parseInt(vars.get("<subtask_index>"));
            Metric tokens = e.getValue().get("tokens");
            if (tokens != null && vars.containsKey("<layer>")) {
                assertTrue(((Counter) tokens).getCount() > 0);
                String expert = vars.get("<layer>") + "/" + vars.get("<expert>");
                Integer previous = ownerOfExpert.put(expert, subtask);
                assertTrue(previous == null || previous == subtask, "expert " + expert + " served by two subtasks");
            }
            if (e.getValue().containsKey("expertsHeld")) {
                heldPerSubtask.put(
                        subtask, ((Number) ((Gauge<?>) e.getValue().get("expertsHeld")).getValue()).longValue());
                heldBytesPerSubtask.put(
                        subtask, ((Number) ((Gauge<?>) e.getValue().get("expertBytesHeld")).getValue()).longValue());
            }
        }
        Model loaded = Model.load(model);
        int expertsPerLayer = loaded.config().numRoutedExperts();
        long bytesPerExpert = loaded.expert(1, 0).bytes();
        assertFalse(ownerOfExpert.isEmpty());
        Map<Integer, Integer> expertsPerSubtask = new HashMap<>();
        for (Map.Entry<String, Integer> e : ownerOfExpert.entrySet()) {
            String[] le = e.getKey().split("/");
            int key = ExpertBundle.expertKey(Integer.parseInt(le[0]), Integer.parseInt(le[1]), expertsPerLayer);
            assertEquals(
                    KeyGroupRangeAssignment.assignKeyToParallelOperator(key, FileJob.MAX_PARALLELISM, parallelism),
                    e.getValue(),
                    "expert " + e.getKey() + " is owned by the subtask of its key group");
            expertsPerSubtask.merge(e.getValue(), 1, Integer::sum);
        }
        int totalExperts = ownerOfExpert.size();
        for (int s = 0; s < parallelism; s++) {
            long held = heldPerSubtask.getOrDefault(s, 0L);
            assertEquals(expertsPerSubtask.getOrDefault(s, 0).longValue(), held, "experts held by subtask " + s);
            assertEquals(held * bytesPerExpert, heldBytesPerSubtask.getOrDefault(s, 0L));
            assertTrue(held < totalExperts, "subtask " + s + " holds only its share, not all " + totalExperts);
        }
    }

    /** Stop with a savepoint at parallelism 2 mid-generation, restore at 3: experts move, results are identical. */
    @Test
    void rescaleFromSavepointGivesIdenticalResults(@TempDir Path dir) throws Exception {
        // Long generations served one at a time per subtask, so that the savepoint lands mid-way however fast the
        // engine is (with the short fixtures a fast engine had finished everything before the stop).
        List<String> requests = JobFixtures.withLength(ClusterTest.requests, 48);
        Map<String, String> expected = JobFixtures.expected(model, requests);
        Path input = JobFixtures.write(dir.resolve("requests.jsonl"), requests);
        Configuration options = options(Duration.ofMillis(200));
        options.set(MoeStreamOptions.MAX_SEQUENCES, 1);

        StreamExecutionEnvironment first = environment(2, options);
        FileJob.build(first, input, dir.resolve("out-2"), dir.resolve("dead-2"), options, true);
        JobClient client = first.executeAsync("rescale, parallelism 2");
        waitFor(() -> FileJob.committedLines(dir.resolve("out-2")).size() >= 6, Duration.ofMinutes(3));
        String savepoint = client.stopWithSavepoint(
                        false, dir.resolve("savepoints").toUri().toString(), SavepointFormatType.CANONICAL)
                .get();
        int before = FileJob.committedLines(dir.resolve("out-2")).size();
        assertTrue(before < requests.size(), "stopped in the middle (" + before + " of " + requests.size() + " done)");

        long savepointBytes = sizeOf(Path.of(java.net.URI.create(savepoint)));
        long modelBytes = sizeOf(model);
        assertTrue(
                savepointBytes * 100 < modelBytes, "savepoint " + savepointBytes + " B vs model " + modelBytes + " B");

        Configuration restore = new Configuration(options);
        restore.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        StreamExecutionEnvironment second = environment(3, restore);
        FileJob.build(second, input, dir.resolve("out-3"), dir.resolve("dead-3"), restore, true);
        JobClient restored = second.executeAsync("rescale, parallelism 3");
        // The first job's last part files may be committed by the restored job (they are in the savepoint), so
        // both directories count.
        waitFor(
                () -> FileJob.committedLines(dir.resolve("out-2")).size()
                                + FileJob.committedLines(dir.resolve("out-3")).size()
                        >= requests.size(),
                Duration.ofMinutes(3));
        restored.cancel().get();

        List<String> all = new ArrayList<>(FileJob.committedLines(dir.resolve("out-2")));
        all.addAll(FileJob.committedLines(dir.resolve("out-3")));
        Path merged = JobFixtures.write(dir.resolve("merged.jsonl"), all);
        Map<String, String> actual = new LinkedHashMap<>(JobFixtures.completions(merged));
        assertEquals(requests.size(), all.size(), "exactly one completion per request across both runs");
        assertEquals(expected, actual);
        Set<String> restoredIds = new HashSet<>(JobFixtures.completions(
                        JobFixtures.write(dir.resolve("second.jsonl"), FileJob.committedLines(dir.resolve("out-3"))))
                .keySet());
        assertFalse(restoredIds.isEmpty(), "the restored job completed the rest");
    }

    /**
     * The whole input is there at once, far faster than the job serves it: each Scheduler keeps at most its budgets
     * of waiting requests, active sequences and KV reservation (it stops reading input instead), and every request
     * still completes.
     */
    @Test
    void backpressureKeepsTheSchedulerWithinItsBudgets(@TempDir Path dir) throws Exception {
        int parallelism = 2;
        int maxWaiting = 5;
        int maxSequences = 3;
        // About two of the longest requests' caches (864 bytes per token in the tiny V3: both latent layouts).
        long kvBudget = 192 * 1024;
        List<String> many = JobFixtures.requests(120, 9);
        Configuration options = options(Duration.ofSeconds(1));
        options.set(MoeStreamOptions.MAX_WAITING, maxWaiting);
        options.set(MoeStreamOptions.MAX_SEQUENCES, maxSequences);
        options.set(MoeStreamOptions.KV_BUDGET_BYTES, kvBudget);
        StreamExecutionEnvironment env = environment(parallelism, options);
        FileJob.build(
                env,
                JobFixtures.write(dir.resolve("requests.jsonl"), many),
                dir.resolve("out"),
                dir.resolve("dead"),
                options,
                false);
        JobID job = env.execute("backpressure").getJobID();

        assertEquals(
                many.size(),
                JobFixtures.completions(
                                JobFixtures.write(dir.resolve("all.jsonl"), FileJob.committedLines(dir.resolve("out"))))
                        .size());
        int schedulers = 0;
        for (Map.Entry<MetricGroup, Map<String, Metric>> e :
                REPORTER.getMetricsByGroup().entrySet()) {
            Map<String, String> vars = e.getKey().getAllVariables();
            if (!job.toString().equals(vars.get("<job_id>")) || !e.getValue().containsKey("requestsWaitingMax")) {
                continue;
            }
            schedulers++;
            long waitingMax = gauge(e.getValue(), "requestsWaitingMax");
            assertTrue(waitingMax > 0 && waitingMax <= maxWaiting, "waiting high-water " + waitingMax);
            assertTrue(gauge(e.getValue(), "sequencesActiveMax") <= maxSequences);
            assertTrue(gauge(e.getValue(), "kvBytesReservedMax") <= kvBudget);
        }
        assertEquals(parallelism, schedulers);
    }

    private static long gauge(Map<String, Metric> metrics, String name) {
        return ((Number) ((Gauge<?>) metrics.get(name)).getValue()).longValue();
    }

    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void waitFor(Condition condition, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout);
            }
            Thread.sleep(100);
        }
    }

    private static long sizeOf(Path dir) throws Exception {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile)
                    .mapToLong(p -> p.toFile().length())
                    .sum();
        }
    }
}
