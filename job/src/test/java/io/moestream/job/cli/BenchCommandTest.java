package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.synth.SyntheticModel;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchCommandTest {
    @TempDir
    static Path temp;

    static Path model;

    @BeforeAll
    static void writeModel() throws Exception {
        model = temp.resolve("tiny");
        SyntheticModel.write(SyntheticModel.preset("deepseek_v3", "tiny"), 1, model, false);
    }

    @Test
    void jsonHasAFigureOfEachBatchSize() throws Exception {
        CliRun run = CliRun.of(
                "bench",
                "--model",
                model.toString(),
                "--batch",
                "1,2",
                "--prompt-len",
                "8",
                "--gen-len",
                "4",
                "--threads",
                "2",
                "--json");

        assertEquals(0, run.exitCode(), run.err());
        assertEquals(1, run.out().lines().count(), run.out());
        JsonNode json = new ObjectMapper().readTree(run.out());
        assertEquals(model.toString(), json.get("model").asText());
        assertEquals(2, json.get("threads").asInt());
        assertTrue(json.get("peak_rss_mb").asDouble() > 0);
        JsonNode results = json.get("results");
        assertEquals(2, results.size());
        for (int i = 0; i < 2; i++) {
            JsonNode result = results.get(i);
            assertEquals(i + 1, result.get("batch").asInt());
            for (String figure : new String[] {"prefill_tok_s", "decode_tok_s", "decode_gflop_s", "decode_gb_s"}) {
                assertTrue(result.get(figure).asDouble() > 0, figure + " in " + result);
            }
        }
    }

    @Test
    void tablePrintsARowPerBatchSize() {
        CliRun run = CliRun.of(
                "bench",
                "--model",
                model.toString(),
                "--batch",
                "3",
                "--prompt-len",
                "4",
                "--gen-len",
                "2",
                "--runs",
                "1",
                "--warmup",
                "0");

        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().lines().anyMatch(line -> line.matches("\\s+3 \\|.*")), run.out());
    }
}
