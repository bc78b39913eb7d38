package io.moestream.job.cli;

import io.moestream.job.FileJob;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
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

    @Mixin
    private ParallelismOption parallelism;

    @Override
    public Integer call() throws Exception {
        model.open().config();
        spec.commandLine()
                .getOut()
                .println(FileJob.plan(model.path, parallelism.get(), flinkOptions.toConfiguration()));
        return 0;
    }
}
