package io.moestream.job.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.ModelDirectory;
import io.moestream.engine.checkpoint.WeightFormat;
import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.model.DenseModel;
import io.moestream.engine.tensor.MachineProbe;
import io.moestream.engine.tensor.Parallel;
import io.moestream.operators.store.ModelStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.function.ToDoubleFunction;
import org.apache.flink.configuration.Configuration;
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
            "  decode tok/s: the B sequences decode --gen-len steps together (one micro-batch of B rows per step, "
                    + "greedy), tokens of all sequences per second.",
            "Each figure is the median of --runs runs after --warmup; GFLOP/s and GB/s of weights read (as loaded: "
                    + "bf16, f32 or q8) are printed with their fraction of this machine's fp32 FMA peak and memory read "
                    + "bandwidth, both measured after the runs with the same threads (MachineProbe, about a second).",
            "--through-flink runs the same workload through the Flink job's dataflow (the topology of run and "
                    + "run-kafka, on a local MiniCluster, requests given as prompt_ids with ignore_eos, the Scheduler "
                    + "prefill-first), alternating with the bare engine's runs in the same invocation: the figures "
                    + "are the dataflow's medians, with the engine's beside them, the median ratio of each dataflow "
                    + "run to the engine run just before it, and whether both generated the same ids."
        },
        sortOptions = false)
final class BenchCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** This machine's limits with the bench's threads, measured after the runs. */
    private MachineProbe.Limits limits;

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

    @Mixin
    private QuantOption quant;

    @Option(
            names = "--through-flink",
            description = "Run the workload through the Flink dataflow too, and report its figures with the bare "
                    + "engine's and their ratio.")
    private boolean throughFlink;

    @Option(
            names = "--parallelism",
            paramLabel = "P",
            defaultValue = "1",
            description = "With --through-flink: the job's parallelism; each Scheduler and Experts subtask gets "
                    + "--threads / P engine threads (default: ${DEFAULT-VALUE}).")
    private int parallelism;

    @Option(
            names = "-D",
            paramLabel = "KEY=VALUE",
            mapFallbackValue = "",
            description = "With --through-flink: a job setting (moestream.*) or Flink option, over the bench's own.")
    private Map<String, String> settings = new LinkedHashMap<>();

    @Option(names = "--json", description = "Print one JSON line instead of the table.")
    private boolean json;

    /** The figures of one batch size; {@code engine} is the bare engine's when {@code flink} is the dataflow's. */
    private record Result(int batch, BatchBenchmark.Phase prefill, BatchBenchmark.Phase decode, Comparison flink) {}

    /** The dataflow's figures beside the bare engine's (which {@link Result} then holds). */
    private record Comparison(
            BatchBenchmark.Phase prefill,
            BatchBenchmark.Phase decode,
            long decodeTokens,
            boolean sameIds,
            double prefillRatio,
            double decodeRatio) {}

    @Override
    public Integer call() throws Exception {
        validate();
        ModelDirectory dir = model.open();
        ModelConfig config = dir.config();
        if (promptLen + genLen + 1 > config.maxPositionEmbeddings()) {
            throw usageError("--prompt-len + --gen-len = " + (promptLen + genLen) + " leaves no room in the model's "
                    + "context of " + config.maxPositionEmbeddings());
        }
        PrintWriter err = spec.commandLine().getErr();
        WeightFormat format = quant.format();
        // The Flink job's TaskManager-wide store: the bare engine and the dataflow share one copy of the weights.
        ModelStore store = ModelStore.get(dir.path().toString(), format);
        DenseModel dense = store.dense();
        ModelCost cost = ModelCost.of(dense);
        FlinkBenchmark flink = throughFlink
                ? new FlinkBenchmark(
                        dir.path(),
                        format,
                        config.vocabSize(),
                        parallelism,
                        Math.max(1, threads.threads() / parallelism),
                        promptLen,
                        genLen,
                        prefillRows,
                        seed,
                        Configuration.fromMap(settings))
                : null;
        List<Result> results = new ArrayList<>();
        try (Parallel parallel = threads.create()) {
            BatchBenchmark bench =
                    new BatchBenchmark(dense, store::expert, cost, parallel, promptLen, genLen, prefillRows, seed);
            for (int batch : batches) {
                for (int i = 0; i < warmup; i++) {
                    bench.run(batch);
                    if (flink != null) {
                        flink.run(batch);
                    }
                }
                // With --through-flink the engine's and the dataflow's runs alternate, so that each pair shares the
                // machine's conditions of the moment (other load, frequency), and each pair gives a ratio.
                List<BatchBenchmark.Run> measured = new ArrayList<>();
                List<FlinkBenchmark.Run> measuredFlink = new ArrayList<>();
                for (int i = 0; i < runs; i++) {
                    BatchBenchmark.Run run = bench.run(batch);
                    measured.add(run);
                    err.printf(
                            Locale.ROOT,
                            "batch %d, run %d/%d: prefill %.1f tok/s, decode %.1f tok/s (%sdecode ended %s)%n",
                            batch,
                            i + 1,
                            runs,
                            run.prefill().tokensPerSecond(),
                            run.decode().tokensPerSecond(),
                            flink != null ? "engine; " : "",
                            clock(System.currentTimeMillis()));
                    if (flink != null) {
                        measuredFlink.add(runThroughFlink(flink, batch, run, i, err));
                    }
                }
                BatchBenchmark.Phase prefill = median(
                        measured.stream().map(BatchBenchmark.Run::prefill).toList());
                BatchBenchmark.Phase decode =
                        median(measured.stream().map(BatchBenchmark.Run::decode).toList());
                Comparison comparison = flink == null ? null : compare(measured, measuredFlink, prefill, decode);
                results.add(new Result(batch, prefill, decode, comparison));
            }
            // After the runs: at start-up the JIT's compiler threads share the cores and the probe reads low.
            limits = MachineProbe.measure(parallel);
        }
        OptionalLong peakRss = PeakMemory.peakResidentBytes();
        if (json) {
            printJson(dir, dense, format, results, peakRss);
        } else {
            printTable(dir, config, dense, format, results, peakRss);
        }
        return 0;
    }

    /** One run through the dataflow, right after the engine's {@code engineRun} of the same workload. */
    private FlinkBenchmark.Run runThroughFlink(
            FlinkBenchmark flink, int batch, BatchBenchmark.Run engineRun, int index, PrintWriter err)
            throws Exception {
        FlinkBenchmark.Run run = flink.run(batch);
        long prefillTokens = engineRun.prefill().tokens();
        err.printf(
                Locale.ROOT,
                "batch %d, run %d/%d: prefill %.1f tok/s, decode %.1f tok/s (through Flink; prefill from %s, "
                        + "decode %s to %s)%n",
                batch,
                index + 1,
                runs,
                prefillTokens / run.prefillSeconds(),
                run.decodeTokens() / run.decodeSeconds(),
                clock(run.prefillStartMillis()),
                clock(run.decodeStartMillis()),
                clock(run.decodeEndMillis()));
        if (!Arrays.deepEquals(run.generated(), engineRun.generated())) {
            err.printf("batch %d: the dataflow generated other ids than the bare engine%n", batch);
        }
        return run;
    }

    /**
     * The dataflow's median phases (with the engine's FLOPs and bytes: the same work), and the medians of the ratios
     * of each dataflow run to the engine run just before it.
     */
    private static Comparison compare(
            List<BatchBenchmark.Run> engine,
            List<FlinkBenchmark.Run> flink,
            BatchBenchmark.Phase enginePrefill,
            BatchBenchmark.Phase engineDecode) {
        boolean sameIds = true;
        List<Double> prefillRatios = new ArrayList<>();
        List<Double> decodeRatios = new ArrayList<>();
        for (int i = 0; i < flink.size(); i++) {
            BatchBenchmark.Run e = engine.get(i);
            FlinkBenchmark.Run f = flink.get(i);
            sameIds &= Arrays.deepEquals(f.generated(), e.generated());
            prefillRatios.add(e.prefill().seconds() / f.prefillSeconds());
            decodeRatios.add((f.decodeTokens() / f.decodeSeconds()) / e.decode().tokensPerSecond());
        }
        FlinkBenchmark.Run prefillRun = flink.stream()
                .sorted((a, b) -> Double.compare(a.prefillSeconds(), b.prefillSeconds()))
                .toList()
                .get(flink.size() / 2);
        FlinkBenchmark.Run decodeRun = flink.stream()
                .sorted((a, b) -> Double.compare(a.decodeSeconds(), b.decodeSeconds()))
                .toList()
                .get(flink.size() / 2);
        return new Comparison(
                new BatchBenchmark.Phase(
                        prefillRun.prefillSeconds(),
                        enginePrefill.tokens(),
                        enginePrefill.flops(),
                        enginePrefill.weightBytes()),
                new BatchBenchmark.Phase(
                        decodeRun.decodeSeconds(),
                        decodeRun.decodeTokens(),
                        engineDecode.flops(),
                        engineDecode.weightBytes()),
                decodeRun.decodeTokens(),
                sameIds,
                medianOf(prefillRatios),
                medianOf(decodeRatios));
    }

    private static double medianOf(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(Double::compare);
        return sorted.get(sorted.size() / 2);
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
        requireAtLeast("--parallelism", parallelism, 1);
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

    private void printJson(
            ModelDirectory dir, DenseModel dense, WeightFormat format, List<Result> results, OptionalLong peakRss)
            throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("model", dir.path().toString());
        root.put("model_type", dense.config().family().modelType());
        root.put("threads", threads.threads());
        root.put("weight_format", format.name().toLowerCase(Locale.ROOT));
        root.put("prompt_len", promptLen);
        root.put("gen_len", genLen);
        root.put("through_flink", throughFlink);
        if (throughFlink) {
            root.put("parallelism", parallelism);
        }
        // A sequence's cache at the end of its generation, and what each token adds to it.
        int length = promptLen + genLen;
        root.put("cache_bytes_per_sequence", dense.cacheBytes(length));
        root.put("cache_bytes_per_token", rounded((double) (dense.cacheBytes(length) - dense.cacheBytes(0)) / length));
        root.put("fma_peak_gflop_s", limits.fmaPeakGflops());
        root.put("bandwidth_gb_s", limits.readBandwidthGbs());
        ArrayNode rows = root.putArray("results");
        for (Result r : results) {
            ObjectNode row = rows.addObject();
            row.put("batch", r.batch());
            BatchBenchmark.Phase prefill =
                    r.flink() == null ? r.prefill() : r.flink().prefill();
            BatchBenchmark.Phase decode =
                    r.flink() == null ? r.decode() : r.flink().decode();
            putPhase(row, "prefill", prefill);
            putPhase(row, "decode", decode);
            if (r.flink() != null) {
                row.put("decode_tokens", r.flink().decodeTokens());
                row.put("engine_prefill_tok_s", rounded(r.prefill().tokensPerSecond()));
                row.put("engine_decode_tok_s", rounded(r.decode().tokensPerSecond()));
                row.put("prefill_ratio", fraction(r.flink().prefillRatio()));
                row.put("decode_ratio", fraction(r.flink().decodeRatio()));
                row.put("same_ids_as_engine", r.flink().sameIds());
            }
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

    /** {@code <phase>_tok_s}, GFLOP/s and GB/s, and their fractions of the FMA peak and of the read bandwidth. */
    private void putPhase(ObjectNode row, String phase, BatchBenchmark.Phase figures) {
        row.put(phase + "_tok_s", rounded(figures.tokensPerSecond()));
        row.put(phase + "_gflop_s", rounded(figures.gigaflopsPerSecond()));
        row.put(phase + "_gb_s", rounded(figures.gigabytesPerSecond()));
        row.put(phase + "_fma_peak_fraction", fraction(figures.gigaflopsPerSecond() / limits.fmaPeakGflops()));
        row.put(phase + "_bw_fraction", fraction(figures.gigabytesPerSecond() / limits.readBandwidthGbs()));
    }

    private void printTable(
            ModelDirectory dir,
            ModelConfig config,
            DenseModel dense,
            WeightFormat format,
            List<Result> results,
            OptionalLong peakRss) {
        PrintWriter out = spec.commandLine().getOut();
        out.printf(
                Locale.ROOT,
                "%s (%s): %d layers, hidden %d, %d routed experts (top %d), vocab %d; weights %s, %.1f MB dense; "
                        + "%d threads%n",
                dir.path(),
                config.family().modelType(),
                config.numLayers(),
                config.hiddenSize(),
                config.numRoutedExperts(),
                config.router().topK(),
                config.vocabSize(),
                format.name().toLowerCase(Locale.ROOT),
                dense.bytes() / 1e6,
                threads.threads());
        int length = promptLen + genLen;
        out.printf(
                Locale.ROOT,
                "prompt %d, gen %d tokens per sequence (cache %.2f MB each, %.0f bytes per token); median of %d runs "
                        + "after %d warm-up; %% of %.0f GFLOP/s fp32 FMA peak and %.0f GB/s read bandwidth%n",
                promptLen,
                genLen,
                dense.cacheBytes(length) / 1e6,
                (double) (dense.cacheBytes(length) - dense.cacheBytes(0)) / length,
                runs,
                warmup,
                limits.fmaPeakGflops(),
                limits.readBandwidthGbs());
        if (throughFlink) {
            out.printf(
                    Locale.ROOT,
                    "through the Flink dataflow (parallelism %d); engine = the bare engine, same workload%n",
                    parallelism);
        }
        out.println();
        out.printf(
                Locale.ROOT,
                "%5s | %12s %16s %16s | %12s %16s %16s%s%n",
                "batch",
                "prefill tok/s",
                "GFLOP/s (peak)",
                "GB/s (bw)",
                "decode tok/s",
                "GFLOP/s (peak)",
                "GB/s (bw)",
                throughFlink
                        ? String.format(
                                Locale.ROOT, " | %12s %12s %7s %5s", "engine pref.", "engine dec.", "dec. %", "ids")
                        : "");
        for (Result r : results) {
            if (r.flink() == null) {
                out.printf(Locale.ROOT, "%5d | %s | %s%n", r.batch(), tableCells(r.prefill()), tableCells(r.decode()));
            } else {
                out.printf(
                        Locale.ROOT,
                        "%5d | %s | %s | %12.1f %12.1f %6.1f%% %5s%n",
                        r.batch(),
                        tableCells(r.flink().prefill()),
                        tableCells(r.flink().decode()),
                        r.prefill().tokensPerSecond(),
                        r.decode().tokensPerSecond(),
                        100 * r.flink().decodeRatio(),
                        r.flink().sameIds() ? "same" : "DIFF");
            }
        }
        if (peakRss.isPresent()) {
            out.printf(Locale.ROOT, "%npeak RSS %.0f MB%n", peakRss.getAsLong() / 1e6);
        }
        out.flush();
    }

    private String tableCells(BatchBenchmark.Phase phase) {
        return String.format(
                Locale.ROOT,
                "%12.1f %16s %16s",
                phase.tokensPerSecond(),
                withFraction(phase, BatchBenchmark.Phase::gigaflopsPerSecond, limits.fmaPeakGflops()),
                withFraction(phase, BatchBenchmark.Phase::gigabytesPerSecond, limits.readBandwidthGbs()));
    }

    private static String withFraction(
            BatchBenchmark.Phase phase, ToDoubleFunction<BatchBenchmark.Phase> figure, double limit) {
        double value = figure.applyAsDouble(phase);
        return String.format(Locale.ROOT, "%.1f (%4.1f%%)", value, 100 * value / limit);
    }

    /** A wall-clock time of day, to find a phase in a profile (JFR prints local times). */
    private static String clock(long epochMillis) {
        return LocalTime.ofInstant(Instant.ofEpochMilli(epochMillis), ZoneId.systemDefault())
                .toString();
    }

    private static double rounded(double value) {
        return Math.round(value * 100) / 100.0;
    }

    private static double fraction(double value) {
        return Math.round(value * 10000) / 10000.0;
    }

    private ParameterException usageError(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
