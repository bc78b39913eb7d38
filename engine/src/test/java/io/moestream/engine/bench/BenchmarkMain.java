package io.moestream.engine.bench;

import io.moestream.engine.tensor.MachineProbe;
import io.moestream.engine.tensor.Parallel;
import java.util.Collection;
import java.util.Locale;
import java.util.stream.Collectors;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;

/**
 * Runs the kernel benchmarks with JMH's own command line ({@code ./moestream jmh [REGEX] [JMH options]}, e.g.
 * {@code -p threads=1}), then prints each one's GFLOP/s and GB/s with their fraction of this machine's limits.
 */
public final class BenchmarkMain {
    /** The benchmarks' thread count, at which this machine's limits are measured. */
    private static final int THREADS = 2;

    private BenchmarkMain() {}

    public static void main(String[] args) throws Exception {
        CommandLineOptions options = new CommandLineOptions(args);
        Runner runner = new Runner(options);
        if (options.shouldHelp()) {
            options.showHelp();
            return;
        }
        if (options.shouldList()) {
            runner.list();
            return;
        }
        Collection<RunResult> results = runner.run();
        MachineProbe.Limits limits;
        try (Parallel parallel = Parallel.create(THREADS)) {
            limits = MachineProbe.measure(parallel);
        }
        printSummary(results, limits);
    }

    private static void printSummary(Collection<RunResult> results, MachineProbe.Limits limits) {
        System.out.printf(
                Locale.ROOT,
                "%nthis machine, %d threads: %.0f GFLOP/s fp32 FMA peak, %.1f GB/s read bandwidth (MachineProbe)%n",
                THREADS,
                limits.fmaPeakGflops(),
                limits.readBandwidthGbs());
        System.out.printf(
                Locale.ROOT, "%-64s %14s %20s %20s%n", "kernel", "ops/s", "GFLOP/s (FMA peak)", "GB/s (read bw)");
        for (RunResult run : results) {
            System.out.printf(
                    Locale.ROOT,
                    "%-64s %14.1f %20s %20s%n",
                    label(run),
                    run.getPrimaryResult().getScore(),
                    ofLimit(run.getSecondaryResults().get("flop"), limits.fmaPeakGflops()),
                    ofLimit(run.getSecondaryResults().get("bytes"), limits.readBandwidthGbs()));
        }
    }

    private static String label(RunResult run) {
        String name = run.getParams().getBenchmark().replace("io.moestream.engine.bench.", "");
        String params = run.getParams().getParamsKeys().stream()
                .map(key -> key + "=" + run.getParams().getParam(key))
                .collect(Collectors.joining(" "));
        return params.isEmpty() ? name : name + " " + params;
    }

    /** A per-second counter in units of 10^9, with its fraction of {@code limit}; "-" when it counted nothing. */
    private static String ofLimit(Result<?> counter, double limit) {
        if (counter == null || counter.getScore() == 0) {
            return "-";
        }
        double giga = counter.getScore() / 1e9;
        return String.format(Locale.ROOT, "%.2f (%5.1f%%)", giga, 100 * giga / limit);
    }
}
