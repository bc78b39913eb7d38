package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.synth.SyntheticModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
    void jsonHasTheFractionsOfTheMachinesPeaks() throws Exception {
        JsonNode json = benchJson("--batch", "2", "--runs", "1", "--warmup", "0");
        // The limits are measured on this machine (MachineProbe): any real CPU does some GFLOP/s and GB/s.
        double peak = json.get("fma_peak_gflop_s").asDouble();
        double bandwidth = json.get("bandwidth_gb_s").asDouble();
        assertTrue(peak > 1 && bandwidth > 0.5, json.toString());
        JsonNode result = json.get("results").get(0);
        for (String phase : new String[] {"prefill", "decode"}) {
            double gflops = result.get(phase + "_gflop_s").asDouble();
            double gbs = result.get(phase + "_gb_s").asDouble();
            assertEquals(gflops / peak, result.get(phase + "_fma_peak_fraction").asDouble(), 1e-3, phase);
            assertEquals(gbs / bandwidth, result.get(phase + "_bw_fraction").asDouble(), 1e-3, phase);
        }
    }

    /**
     * The dataflow's run does the bare engine's work: every sequence generates exactly gen-len tokens by decode steps
     * (ignore_eos), and the very ids the engine generated (determinism: same bits whatever runs them).
     */
    @Test
    void throughFlinkGeneratesTheEnginesIdsAndReportsTheRatio() throws Exception {
        JsonNode json = benchJson("--batch", "1,3", "--runs", "1", "--warmup", "0", "--through-flink");
        assertTrue(json.get("through_flink").asBoolean());
        assertEquals(1, json.get("parallelism").asInt());
        JsonNode results = json.get("results");
        assertEquals(2, results.size());
        int[] batches = {1, 3};
        for (int i = 0; i < 2; i++) {
            JsonNode result = results.get(i);
            assertEquals(batches[i], result.get("batch").asInt());
            assertEquals(batches[i] * 4, result.get("decode_tokens").asInt(), result.toString());
            assertTrue(result.get("same_ids_as_engine").asBoolean(), result.toString());
            for (String figure : new String[] {
                "prefill_tok_s", "decode_tok_s", "engine_prefill_tok_s", "engine_decode_tok_s", "decode_ratio"
            }) {
                assertTrue(result.get(figure).asDouble() > 0, figure + " in " + result);
            }
            assertEquals(
                    result.get("decode_tok_s").asDouble()
                            / result.get("engine_decode_tok_s").asDouble(),
                    result.get("decode_ratio").asDouble(),
                    0.01 * result.get("decode_ratio").asDouble());
        }
    }

    /** 8-bit weights, in the engine and in the dataflow (moestream.model.weight-format): the same ids again. */
    @Test
    void quantQ8RunsOnEightBitWeightsInBothPaths() throws Exception {
        JsonNode json = benchJson("--batch", "2", "--runs", "1", "--warmup", "0", "--quant", "q8", "--through-flink");
        assertEquals("q8", json.get("weight_format").asText());
        JsonNode result = json.get("results").get(0);
        assertTrue(result.get("decode_tok_s").asDouble() > 0, result.toString());
        assertTrue(result.get("decode_gb_s").asDouble() > 0, result.toString());
        assertEquals(8, result.get("decode_tokens").asInt(), result.toString());
        assertTrue(result.get("same_ids_as_engine").asBoolean(), result.toString());
    }

    @Test
    void anUnknownQuantIsAUsageError() {
        CliRun run = CliRun.of("bench", "--model", model.toString(), "--quant", "q3");
        assertEquals(MoeStreamCli.EXIT_USAGE, run.exitCode(), run.err());
        assertTrue(run.err().contains("q3"), run.err());
    }

    /** A small bench (prompt 8, gen 4, 2 threads) with {@code options}, its one JSON line parsed. */
    private static JsonNode benchJson(String... options) throws Exception {
        List<String> args = new ArrayList<>(
                List.of("bench", "--model", model.toString(), "--prompt-len", "8", "--gen-len", "4", "--threads", "2"));
        args.addAll(List.of(options));
        args.add("--json");
        CliRun run = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, run.exitCode(), run.err());
        assertEquals(1, run.out().lines().count(), run.out());
        return new ObjectMapper().readTree(run.out());
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
