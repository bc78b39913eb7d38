package io.moestream.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.operators.MoeStreamOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failure in the middle of generation: an Experts subtask throws after some bundles, the job restarts from its
 * last checkpoint, every sequence is prefilled again from its checkpointed ids, and the transactional file sink keeps
 * the output exactly once. The texts equal a failure-free run's.
 */
class RecoveryTest {
    @Test
    void injectedFailureRecoversExactlyOnceWithIdenticalResults(@TempDir Path dir) throws Exception {
        Path model = JobFixtures.tinyModel(dir.resolve("model"));
        List<String> requests = JobFixtures.requests(24, 11);
        Map<String, String> expected = JobFixtures.expected(model, requests);

        Configuration options = new Configuration();
        options.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofMillis(100));
        options.set(MoeStreamOptions.TOKEN_BUDGET, 16);
        options.set(MoeStreamOptions.MAX_SEQUENCES, 4);
        // Each Experts subtask fails once, well into generation (the job sends thousands of bundles).
        options.set(MoeStreamOptions.FAIL_AFTER_BUNDLES, 400);
        Path output = dir.resolve("completions.jsonl");
        FileJob.Result result = FileJob.run(
                model, JobFixtures.write(dir.resolve("requests.jsonl"), requests), output, null, 2, options);

        assertTrue(result.sequencesRestored() > 0, "the job restored unfinished sequences from a checkpoint");
        assertEquals(requests.size(), result.completions(), "one completion per request, none duplicated");
        assertEquals(expected, JobFixtures.completions(output));
    }
}
