package io.moestream.job.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.ModelDirectory;
import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.model.Model;
import io.moestream.engine.tensor.Parallel;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.function.ToDoubleFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code bench}: prefill and batched-decode throughput, as llama.cpp's batched bench measures them. */
@Command(
        name = "bench",
        description = {
            "Measures prefill and batched-decode throughput on synthetic token ids (no tokenizer needed).",
            "For each batch size B:",
            "  prefill tok/s: B sequences of --prompt-len tokens, prompt tokens processed per second;",
            "  decode tok/s: the B sequences decode --gen-len steps together (one micro-batch of B rows per step), "
                    + "tokens of all sequences per second.",
            "Each figure is the median of --runs runs after --warmup; GFLOP/s and GB/s of weights read are printed "
                    + "with their fraction of this machine's fp32 FMA peak (424 GFLOP/s) and read bandwidth (63 GB/s), "
                    + "measured with 2 threads (shared/bench/README.md)."
        },
        sortOptions = false)
final class BenchCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    private CommandSpec spec;

    @Mixin
    private ModelOption model;

    @Option(
            names = "--batch",
            paramLabel = "B",
            split = ",",
            defaultValue = "1,16,64",
            description = "Batch sizes (default: ${DEFAULT-VALUE}).")
    private int[] batches;

    @Option(
            names = "--prompt-len",
            paramLabel = "N",
            defaultValue = "128",
            description = "Prompt tokens per sequence (default: ${DEFAULT-VALUE}).")
    private int promptLen;

    @Option(
            names = "--gen-len",
            paramLabel = "N",
            defaultValue = "32",
            description = "Decode steps per sequence (default: ${DEFAULT-VALUE}).")
    private int genLen;

    @Mixin
    private ThreadsOption threads;

    @Option(
            names = "--runs",
            paramLabel = "N",
            defaultValue = "3",
            description = "Measured runs per batch size; the median is reported (default: ${DEFAULT-VALUE}).")
    private int runs;

    @Option(
            names = "--warmup",
            paramLabel = "N",
            defaultValue = "1",
            description = "Unmeasured runs first, for the JIT (default: ${DEFAULT-VALUE}).")
    private int warmup;

    @Option(
            names = "--prefill-rows",
            paramLabel = "N",
            defaultValue = "512",
            description = "Most rows per prefill micro-batch, like llama.cpp's ubatch (default: ${DEFAULT-VALUE}).")
    private int prefillRows;

    @Option(
            names = "--seed",
            paramLabel = "S",
            defaultValue = "0",
            description = "Seed of the synthetic token ids (default: ${DEFAULT-VALUE}).")
    private long seed;

    @Option(names = "--json", description = "Print one JSON line instead of the table.")
    private boolean json;

    /** The medians of one batch size. */
    private record Result(int batch, BatchBenchmark.Phase prefill, BatchBenchmark.Phase decode) {}

    @Override
    public Integer call() throws IOException {
        validate();
        ModelDirectory dir = model.open();
        ModelConfig config = dir.config();
        if (promptLen + genLen > config.maxPositionEmbeddings()) {
            throw usageError("--prompt-len + --gen-len = " + (promptLen + genLen) + " exceeds the model's context of "
                    + config.maxPositionEmbeddings());
        }
        PrintWriter err = spec.commandLine().getErr();
        Model weights = Model.load(dir.path());
        ModelCost cost = ModelCost.of(weights);
        List<Result> results = new ArrayList<>();
        try (Parallel parallel = threads.create()) {
            BatchBenchmark bench = new BatchBenchmark(weights, cost, parallel, promptLen, genLen, prefillRows, seed);
            for (int batch : batches) {
                for (int i = 0; i < warmup; i++) {
                    bench.run(batch);
                }
                List<BatchBenchmark.Run> measured = new ArrayList<>();
                for (int i = 0; i < runs; i++) {
                    BatchBenchmark.Run run = bench.run(batch);
                    measured.add(run);
                    err.printf(
                            Locale.ROOT,
                            "batch %d, run %d/%d: prefill %.1f tok/s, decode %.1f tok/s%n",
                            batch,
                            i + 1,
                            runs,
                            run.prefill().tokensPerSecond(),
                            run.decode().tokensPerSecond());
                }
                results.add(new Result(
                        batch,
                        median(measured.stream()
                                .map(BatchBenchmark.Run::prefill)
                                .toList()),
                        median(measured.stream().map(BatchBenchmark.Run::decode).toList())));
            }
        }
        OptionalLong peakRss = PeakMemory.peakResidentBytes();
        if (json) {
            printJson(dir, results, peakRss);
        } else {
            printTable(dir, config, weights, results, peakRss);
        }
        return 0;
    }

    private void validate() {
        if (batches.length == 0 || Arrays.stream(batches).anyMatch(b -> b < 1)) {
            throw usageError("--batch sizes must be at least 1, got " + Arrays.toString(batches));
        }
        requireAtLeast("--prompt-len", promptLen, 1);
        requireAtLeast("--gen-len", genLen, 1);
        requireAtLeast("--runs", runs, 1);
        requireAtLeast("--warmup", warmup, 0);
        requireAtLeast("--prefill-rows", prefillRows, 1);
    }

    private void requireAtLeast(String option, int value, int minimum) {
        if (value < minimum) {
            throw usageError(option + " must be at least " + minimum + ", got " + value);
        }
    }

    /** The run of median duration: its figures belong together (one run's time, tokens, FLOPs and bytes). */
    private static BatchBenchmark.Phase median(List<BatchBenchmark.Phase> phases) {
        List<BatchBenchmark.Phase> sorted = new ArrayList<>(phases);
        sorted.sort((a, b) -> Double.compare(a.seconds(), b.seconds()));
        return sorted.get(sorted.size() / 2);
    }

    private void printJson(ModelDirectory dir, List<Result> results, OptionalLong peakRss) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("model", dir.path().toString());
        root.put("threads", threads.threads());
        root.put("prompt_len", promptLen);
        root.put("gen_len", genLen);
        ArrayNode rows = root.putArray("results");
        for (Result r : results) {
            ObjectNode row = rows.addObject();
            row.put("batch", r.batch());
            row.put("prefill_tok_s", rounded(r.prefill().tokensPerSecond()));
            row.put("decode_tok_s", rounded(r.decode().tokensPerSecond()));
            row.put("prefill_gflop_s", rounded(r.prefill().gigaflopsPerSecond()));
            row.put("prefill_gb_s", rounded(r.prefill().gigabytesPerSecond()));
            row.put("decode_gflop_s", rounded(r.decode().gigaflopsPerSecond()));
            row.put("decode_gb_s", rounded(r.decode().gigabytesPerSecond()));
        }
        if (peakRss.isPresent()) {
            root.put("peak_rss_mb", rounded(peakRss.getAsLong() / 1e6));
        } else {
            root.putNull("peak_rss_mb");
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(JSON.writeValueAsString(root));
        out.flush();
    }

    private void printTable(
            ModelDirectory dir, ModelConfig config, Model weights, List<Result> results, OptionalLong peakRss) {
        PrintWriter out = spec.commandLine().getOut();
        out.printf(
                Locale.ROOT,
                "%s (%s): %d layers, hidden %d, %d routed experts (top %d), vocab %d, %.1f MB of weights; %d threads%n",
                dir.path(),
                config.family().modelType(),
                config.numLayers(),
                config.hiddenSize(),
                config.numRoutedExperts(),
                config.router().topK(),
                config.vocabSize(),
                weights.bytes() / 1e6,
                threads.threads());
        out.printf(
                Locale.ROOT,
                "prompt %d, gen %d tokens per sequence; median of %d runs after %d warm-up; "
                        + "%% of %.0f GFLOP/s fp32 FMA peak and %.0f GB/s read bandwidth%n%n",
                promptLen,
                genLen,
                runs,
                warmup,
                MachineLimits.FP32_FMA_PEAK_GFLOP_S,
                MachineLimits.READ_BANDWIDTH_GB_S);
        out.printf(
                Locale.ROOT,
                "%5s | %12s %16s %16s | %12s %16s %16s%n",
                "batch",
                "prefill tok/s",
                "GFLOP/s (peak)",
                "GB/s (bw)",
                "decode tok/s",
                "GFLOP/s (peak)",
                "GB/s (bw)");
        for (Result r : results) {
            out.printf(Locale.ROOT, "%5d | %s | %s%n", r.batch(), tableCells(r.prefill()), tableCells(r.decode()));
        }
        if (peakRss.isPresent()) {
            out.printf(Locale.ROOT, "%npeak RSS %.0f MB%n", peakRss.getAsLong() / 1e6);
        }
        out.flush();
    }

    private static String tableCells(BatchBenchmark.Phase phase) {
        return String.format(
                Locale.ROOT,
                "%12.1f %16s %16s",
                phase.tokensPerSecond(),
                withFraction(phase, BatchBenchmark.Phase::gigaflopsPerSecond, MachineLimits.FP32_FMA_PEAK_GFLOP_S),
                withFraction(phase, BatchBenchmark.Phase::gigabytesPerSecond, MachineLimits.READ_BANDWIDTH_GB_S));
    }

    private static String withFraction(
            BatchBenchmark.Phase phase, ToDoubleFunction<BatchBenchmark.Phase> figure, double limit) {
        double value = figure.applyAsDouble(phase);
        return String.format(Locale.ROOT, "%.1f (%4.1f%%)", value, 100 * value / limit);
    }

    private static double rounded(double value) {
        return Math.round(value * 100) / 100.0;
    }

    private ParameterException usageError(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
