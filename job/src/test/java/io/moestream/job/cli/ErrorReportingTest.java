package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.synth.SyntheticModel;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every bad input ends in one line on stderr, no stack trace, and exit code 2 (usage) or 1 (runtime). */
class ErrorReportingTest {
    @TempDir
    static Path temp;

    static Path model;

    @BeforeAll
    static void writeModels() throws Exception {
        model = temp.resolve("tiny");
        SyntheticModel.write(SyntheticModel.preset("deepseek_v3", "tiny"), 1, model, true);

        Path truncated = copyOfModel("truncated");
        try (RandomAccessFile file =
                new RandomAccessFile(truncated.resolve("model.safetensors").toFile(), "rw")) {
            file.setLength(file.length() / 2);
        }
        replaceInConfig(copyOfModel("unknown-architecture"), "\"deepseek_v3\"", "\"llama\"");
        // A config that asks for one more layer than the weights hold: layer 3's tensors are missing.
        replaceInConfig(copyOfModel("missing-tensor"), "\"num_hidden_layers\": 3", "\"num_hidden_layers\": 4");
        SyntheticModel.write(SyntheticModel.preset("deepseek_v3", "tiny"), 1, temp.resolve("no-tokenizer"), false);
    }

    private static void replaceInConfig(Path dir, String original, String replacement) throws Exception {
        Path config = dir.resolve("config.json");
        String text = Files.readString(config);
        assertTrue(text.contains(original), text);
        Files.writeString(config, text.replace(original, replacement));
    }

    private static Path copyOfModel(String name) throws Exception {
        Path copy = temp.resolve(name);
        Files.createDirectories(copy);
        try (Stream<Path> files = Files.list(model)) {
            for (Path file : files.toList()) {
                Files.copy(file, copy.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return copy;
    }

    static Stream<Arguments> badCommandLines() {
        String tiny = model.toString();
        return Stream.of(
                usage("generate", "--model", tiny),
                usage("generate", "--model", tiny, "--prompt", "a", "--prompt-ids", "1"),
                usage("generate", "--model", tiny, "--prompt", "a", "--max-tokens", "-1"),
                usage("generate", "--model", tiny, "--prompt", "a", "--top-p", "0"),
                usage("generate", "--model", tiny, "--prompt", "a", "--temperature", "-0.5"),
                usage("generate", "--model", tiny, "--prompt-ids", "1,x"),
                usage("generate", "--model", tiny, "--prompt-ids", "1,129280"),
                usage("generate", "--model", tiny, "--prompt-ids", "1", "--chat"),
                usage("generate", "--model", tiny, "--prompt", "a", "--threads", "0"),
                usage("generate", "--model", tiny, "--prompt", "a", "--no-such-flag"),
                usage("generate", "--prompt", "a"),
                usage(
                        "init-model",
                        "--arch",
                        "deepseek_v3",
                        "--out",
                        temp.resolve("x").toString()),
                usage(
                        "init-model",
                        "--arch",
                        "deepseek_v9",
                        "--preset",
                        "tiny",
                        "--out",
                        temp.resolve("x").toString()),
                usage(
                        "init-model",
                        "--arch",
                        "deepseek_v3",
                        "--preset",
                        "huge",
                        "--out",
                        temp.resolve("x").toString()),
                usage("bench", "--model", tiny, "--batch", "0"),
                usage("bench", "--model", tiny, "--gen-len", "0"),
                usage("nonsense"),
                runtime("generate", "--model", temp.resolve("absent").toString(), "--prompt-ids", "1"),
                runtime("generate", "--model", temp.resolve("truncated").toString(), "--prompt-ids", "1"),
                runtime(
                        "generate",
                        "--model",
                        temp.resolve("unknown-architecture").toString(),
                        "--prompt-ids",
                        "1"),
                runtime("generate", "--model", temp.resolve("missing-tensor").toString(), "--prompt-ids", "1"),
                runtime(
                        "generate",
                        "--model",
                        temp.resolve("no-tokenizer").toString(),
                        "--prompt",
                        "needs a tokenizer"),
                runtime(
                        "tokenize",
                        "--model",
                        tiny,
                        "--input",
                        temp.resolve("absent.jsonl").toString()),
                runtime(
                        "init-model",
                        "--config",
                        temp.resolve("absent.json").toString(),
                        "--out",
                        temp.resolve("x").toString()),
                runtime("bench", "--model", temp.resolve("truncated").toString()));
    }

    @ParameterizedTest
    @MethodSource("badCommandLines")
    void endsInOneLineWithTheExitCode(int exitCode, List<String> args) {
        CliRun run = CliRun.of(args.toArray(String[]::new));

        assertEquals(exitCode, run.exitCode(), run.err());
        List<String> lines = run.err().lines().toList();
        assertEquals(1, lines.size(), run.err());
        assertTrue(lines.get(0).startsWith("moestream: error: "), run.err());
        assertEquals("", run.out());
    }

    @Test
    void malformedInputLineIsNamed() {
        CliRun run = CliRun.withInput(
                "{\"id\": 1, \"text\": \"ok\"}\n{\"id\": 2}\n", "tokenize", "--model", model.toString());

        assertEquals(1, run.exitCode());
        assertEquals(
                "moestream: error: standard input, line 2: expected an object with a string \"text\"\n",
                run.err().replace("\r\n", "\n"));
    }

    @Test
    void verboseAddsTheStackTrace() {
        CliRun run =
                CliRun.of("generate", "-v", "--model", temp.resolve("truncated").toString(), "--prompt-ids", "1");

        assertEquals(1, run.exitCode());
        assertTrue(run.err().lines().count() > 1, run.err());
        assertTrue(run.err().contains("\tat "), run.err());
    }

    private static Arguments usage(String... args) {
        return Arguments.of(MoeStreamCli.EXIT_USAGE, List.of(args));
    }

    private static Arguments runtime(String... args) {
        return Arguments.of(MoeStreamCli.EXIT_RUNTIME_ERROR, List.of(args));
    }
}
