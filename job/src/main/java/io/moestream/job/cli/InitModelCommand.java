package io.moestream.job.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.synth.SyntheticModel;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code init-model}: a deterministic synthetic checkpoint with random weights. */
@Command(
        name = "init-model",
        description = {
            "Writes a synthetic model directory with random weights that depend only on the seed: config.json, "
                    + "generation_config.json, BF16 safetensors.",
            "A preset (--arch and --preset) also gets DeepSeek-V3's tokenizer (DeepSeek-V4 keeps its vocabulary; no V4 "
                    + "tokenizer files exist here, so V4 presets use V3's, chat template included); --config FILE.json "
                    + "takes any DeepSeek-V2/V3/V4 config.json and writes no tokenizer.",
            "DeepSeek-V4 checkpoints are written in DeepSeek's own tensor layout; --quant-experts fp4 writes their "
                    + "routed experts in the released FP4 format."
        },
        sortOptions = false)
final class InitModelCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    private CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    private Source source;

    static final class Source {
        @ArgGroup(exclusive = false)
        Preset preset;

        @Option(names = "--config", paramLabel = "FILE.json", description = "A config.json to give random weights.")
        Path config;
    }

    static final class Preset {
        @Option(
                names = "--arch",
                required = true,
                paramLabel = "ARCH",
                description = "deepseek_v3, deepseek_v2 or deepseek_v4.")
        String architecture;

        @Option(
                names = "--preset",
                required = true,
                paramLabel = "SIZE",
                description = "tiny (hidden 64, 3-4 layers, 8 experts) or small (V2/V3: hidden 256, 4 layers, 16 "
                        + "experts; V4: hidden 512, 8 layers, 32 experts); "
                        + "both with DeepSeek-V3's vocabulary of 129,280.")
        String size;
    }

    @Option(
            names = "--seed",
            paramLabel = "S",
            defaultValue = "0",
            description = "Seed of the weights (default: ${DEFAULT-VALUE}).")
    private long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to write (created).")
    private Path out;

    @Option(
            names = "--quant-experts",
            paramLabel = "FORMAT",
            description = "fp4: DeepSeek-V4's routed experts in its released FP4 (e2m1, two per byte, an E8M0 scale "
                    + "per 32 inputs), kept packed in memory when served.")
    private String quantExperts;

    @Override
    public Integer call() throws IOException {
        JsonNode config = source.config != null ? readConfig(source.config) : presetConfig();
        boolean withTokenizer = source.config == null;
        boolean fp4 = quantExperts != null;
        if (fp4 && !quantExperts.equalsIgnoreCase("fp4")) {
            throw new ParameterException(
                    spec.commandLine(), "--quant-experts: unknown format '" + quantExperts + "' (expected fp4)");
        }
        try {
            SyntheticModel.write(config, seed, out, withTokenizer, SyntheticModel.DEFAULT_MAX_SHARD_BYTES, fp4);
        } catch (IllegalArgumentException e) {
            String origin = source.config != null ? source.config.toString() : "preset";
            throw new IllegalArgumentException(origin + ": " + e.getMessage(), e);
        }
        spec.commandLine()
                .getErr()
                .printf(
                        Locale.ROOT,
                        "wrote %s: %s, seed %d, %.1f MB of weights%s%s%n",
                        out,
                        config.path("model_type").asText(),
                        seed,
                        safetensorsBytes(out) / 1e6,
                        fp4 ? " (FP4 experts)" : "",
                        withTokenizer ? ", DeepSeek-V3 tokenizer" : "");
        return 0;
    }

    private JsonNode presetConfig() {
        try {
            return SyntheticModel.preset(source.preset.architecture, source.preset.size);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private static JsonNode readConfig(Path file) throws IOException {
        JsonNode config;
        try {
            config = JSON.readTree(Files.readAllBytes(file));
        } catch (JsonProcessingException e) {
            throw new IOException(file + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (config == null || !config.isObject()) {
            throw new IOException(file + " does not hold a JSON object");
        }
        return config;
    }

    private static long safetensorsBytes(Path dir) throws IOException {
        long total = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.safetensors")) {
            for (Path file : files) {
                total += Files.size(file);
            }
        }
        return total;
    }
}
