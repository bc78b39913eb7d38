package io.moestream.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Flink job on a real MiniCluster gives, for every request, the local generator's tokens, text and finish
 * reason, whatever the parallelism.
 */
class FileJobTest {
    @TempDir
    static Path shared;

    static Path model;
    static List<String> requests;
    static Map<String, String> expected;

    @BeforeAll
    static void prepare() throws Exception {
        model = JobFixtures.tinyModel(shared.resolve("model"));
        requests = JobFixtures.requests(40, 3);
        expected = JobFixtures.expected(model, requests);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void completionsEqualTheLocalGenerator(int parallelism, @TempDir Path dir) throws Exception {
        Path input = JobFixtures.write(dir.resolve("requests.jsonl"), requests);
        Path output = dir.resolve("completions.jsonl");
        Configuration options = new Configuration();
        options.setString("moestream.scheduler.token-budget", "24");
        options.setString("moestream.scheduler.max-sequences", "6");
        FileJob.Result result = FileJob.run(model, input, output, dir.resolve("dead.jsonl"), parallelism, options);
        assertEquals(requests.size(), result.completions());
        assertEquals(expected, JobFixtures.completions(output));
    }
}
