package io.moestream.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.operators.MoeStreamOptions;
import io.moestream.operators.scheduler.SchedulerOperator;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A failure in the middle of generation: an Experts subtask throws after some bundles and a completed checkpoint,
 * the job restarts from that checkpoint, every sequence is prefilled again from its checkpointed ids (for V4 that
 * rebuilds its windows, compressed entries, compressor tails and indexer keys), and the transactional file sink keeps
 * the output exactly once. The texts equal a failure-free run's.
 */
class RecoveryTest {
    @ParameterizedTest
    @ValueSource(strings = {"deepseek_v3", "deepseek_v4"})
    void injectedFailureRecoversExactlyOnceWithIdenticalResults(String architecture, @TempDir Path dir)
            throws Exception {
        Path model = JobFixtures.tinyModel(dir.resolve("model"), architecture);
        List<String> requests = JobFixtures.requests(24, 11);
        Map<String, String> expected = JobFixtures.expected(model, requests);

        Configuration options = new Configuration();
        options.set(MoeStreamOptions.MODEL_DIR, model.toString());
        options.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofMillis(100));
        options.set(MoeStreamOptions.TOKEN_BUDGET, 16);
        options.set(MoeStreamOptions.MAX_SEQUENCES, 2);
        options.set(MoeStreamOptions.FAIL_AFTER_BUNDLES, 100);
        // Accumulators of a running job reach the client with the TaskManager's heartbeats.
        options.setString("heartbeat.interval", "200 ms");
        StreamExecutionEnvironment env = FileJob.localEnvironment(2, options);
        // A monitored (unbounded) input, as a long-running job: checkpoints keep completing while it generates.
        Path output = dir.resolve("completions");
        FileJob.build(
                env,
                JobFixtures.write(dir.resolve("requests.jsonl"), requests),
                output,
                dir.resolve("dead"),
                options,
                true);
        JobClient job = env.executeAsync("recovery");
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (FileJob.committedLines(output).size() < requests.size() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        Thread.sleep(1000); // a duplicate would show up with the next commits; the accumulators arrive meanwhile
        Object restored = job.getAccumulators().get().get(SchedulerOperator.RESTORED_ACCUMULATOR);
        job.cancel().get();

        assertTrue(restored instanceof Long l && l > 0, "the job restored unfinished sequences from a checkpoint");
        List<String> lines = FileJob.committedLines(output);
        assertEquals(requests.size(), lines.size(), "one completion per request, none duplicated");
        assertEquals(expected, JobFixtures.completions(JobFixtures.write(dir.resolve("all.jsonl"), lines)));
    }
}
