package io.moestream.job.cli;

import io.moestream.engine.ModelDirectory;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --model DIR}: the Hugging Face model directory a command works on. */
final class ModelOption {
    @Option(
            names = "--model",
            required = true,
            paramLabel = "DIR",
            description = "Model directory: config.json, *.safetensors, and optionally tokenizer.json, "
                    + "tokenizer_config.json, generation_config.json.")
    Path path;

    ModelDirectory open() throws IOException {
        return ModelDirectory.of(path);
    }
}
