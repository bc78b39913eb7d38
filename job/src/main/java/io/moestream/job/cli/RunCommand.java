package io.moestream.job.cli;

import io.moestream.job.FileJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code run}: the Flink job over files, on a local MiniCluster. */
@Command(
        name = "run",
        description = {
            "Runs the MoEStream Flink job on a local MiniCluster: JSON Lines requests from a file, JSON Lines "
                    + "completions (and dead letters) to files.",
            "Request fields: id, prompt or messages or prompt_ids, max_tokens, temperature, top_p, top_k, seed, stop, "
                    + "metadata, ignore_eos."
        })
final class RunCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Mixin
    private ModelOption model;

    @Mixin
    private FlinkOptions flinkOptions;

    @Option(names = "--input", required = true, paramLabel = "FILE", description = "Requests, one JSON per line.")
    private Path input;

    @Option(names = "--output", required = true, paramLabel = "FILE", description = "Completions, in input order.")
    private Path output;

    @Option(
            names = "--dead-letters",
            paramLabel = "FILE",
            description = "Where requests that cannot be served go, as {\"code\", \"message\", \"original\"} lines.")
    private Path deadLetters;

    @Mixin
    private ParallelismOption parallelism;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(input)) {
            throw new ParameterException(spec.commandLine(), "--input " + input + " is not a file");
        }
        model.open().config(); // a bad model directory fails here, with one line, before Flink starts
        FileJob.Result result =
                FileJob.run(model.path, input, output, deadLetters, parallelism.get(), flinkOptions.toConfiguration());
        double seconds = result.elapsed().toNanos() / 1e9;
        spec.commandLine()
                .getErr()
                .printf(
                        "moestream run: %d completions, %d dead letters in %.1f s (parallelism %d)%n",
                        result.completions(), result.deadLetters(), seconds, parallelism.get());
        return 0;
    }
}
