package io.moestream.job.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code --parallelism P}: the parallelism of every operator of the file job. */
final class ParallelismOption {
    @Spec(Spec.Target.MIXEE)
    private CommandSpec spec;

    private int parallelism = 1;

    @Option(names = "--parallelism", paramLabel = "P", description = "Parallelism of every operator (default: 1).")
    private void setParallelism(int parallelism) {
        if (parallelism < 1) {
            throw new ParameterException(spec.commandLine(), "--parallelism must be at least 1, got " + parallelism);
        }
        this.parallelism = parallelism;
    }

    int get() {
        return parallelism;
    }
}
