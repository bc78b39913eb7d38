package io.moestream.job.cli;

import io.moestream.job.FileJob;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code plan}: the job's Flink execution plan. */
@Command(name = "plan", description = "Prints the Flink execution plan (JSON) of the MoEStream job.")
final class PlanCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Mixin
    private ModelOption model;

    @Mixin
    private FlinkOptions flinkOptions;

    @Option(
            names = "--parallelism",
            paramLabel = "P",
            defaultValue = "1",
            description = "Parallelism of every operator (default: ${DEFAULT-VALUE}).")
    private int parallelism;

    @Override
    public Integer call() throws Exception {
        if (parallelism < 1) {
            throw new ParameterException(spec.commandLine(), "--parallelism must be at least 1, got " + parallelism);
        }
        model.open().config();
        spec.commandLine().getOut().println(FileJob.plan(model.path, parallelism, flinkOptions.toConfiguration()));
        return 0;
    }
}
