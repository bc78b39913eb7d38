package io.moestream.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The Flink job on a real MiniCluster gives, for every request, the local generator's tokens, text and finish
 * reason, whatever the parallelism, for DeepSeek-V3 and -V4 (whose hash-routed and top-k layers both go through the
 * keyed Experts, FP4 experts included, and whose windows and compressed entries the Scheduler's caches keep).
 */
class FileJobTest {
    @TempDir
    static Path shared;

    static List<String> requests;
    static Map<String, Path> models = new HashMap<>();
    static Map<String, Map<String, String>> expected = new HashMap<>();

    @BeforeAll
    static void prepare() throws Exception {
        requests = JobFixtures.requests(40, 3);
        for (String architecture : new String[] {"deepseek_v3", "deepseek_v4", "deepseek_v4+fp4"}) {
            Path model = JobFixtures.tinyModel(shared.resolve(architecture), architecture);
            models.put(architecture, model);
            expected.put(architecture, JobFixtures.expected(model, requests));
        }
    }

    @ParameterizedTest
    @CsvSource({
        "deepseek_v3, 1",
        "deepseek_v3, 2",
        "deepseek_v3, 4",
        "deepseek_v4, 1",
        "deepseek_v4, 2",
        "deepseek_v4+fp4, 2"
    })
    void completionsEqualTheLocalGenerator(String architecture, int parallelism, @TempDir Path dir) throws Exception {
        Path model = models.get(architecture);
        Path input = JobFixtures.write(dir.resolve("requests.jsonl"), requests);
        Path output = dir.resolve("completions.jsonl");
        Configuration options = new Configuration();
        options.setString("moestream.scheduler.token-budget", "24");
        options.setString("moestream.scheduler.max-sequences", "6");
        FileJob.Result result = FileJob.run(model, input, output, dir.resolve("dead.jsonl"), parallelism, options);
        assertEquals(requests.size(), result.completions());
        assertEquals(expected.get(architecture), JobFixtures.completions(output));
    }
}
