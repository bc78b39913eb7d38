package io.moestream.job.cli;

import io.moestream.engine.tensor.Parallel;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code --threads N}: the engine's thread budget. */
final class ThreadsOption {
    @Spec(Spec.Target.MIXEE)
    private CommandSpec spec;

    private int threads = Runtime.getRuntime().availableProcessors();

    @Option(
            names = "--threads",
            paramLabel = "N",
            description = "Threads for the forward pass (default: the available processors).")
    private void setThreads(int threads) {
        if (threads < 1) {
            throw new ParameterException(spec.commandLine(), "--threads must be at least 1, got " + threads);
        }
        this.threads = threads;
    }

    int threads() {
        return threads;
    }

    Parallel create() {
        return Parallel.create(threads);
    }
}
