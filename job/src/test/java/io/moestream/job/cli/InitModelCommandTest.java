package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.model.Model;
import io.moestream.engine.synth.SyntheticModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InitModelCommandTest {
    @TempDir
    Path temp;

    @Test
    void sameSeedWritesTheSameFiles() throws Exception {
        Path first = temp.resolve("first");
        Path second = temp.resolve("second");
        Path otherSeed = temp.resolve("other-seed");

        for (Path out : new Path[] {first, second}) {
            CliRun run = CliRun.of(
                    "init-model", "--arch", "deepseek_v3", "--preset", "tiny", "--seed", "5", "--out", out.toString());
            assertEquals(0, run.exitCode(), run.err());
        }
        assertEquals(
                0,
                CliRun.of(
                                "init-model",
                                "--arch",
                                "deepseek_v3",
                                "--preset",
                                "tiny",
                                "--seed",
                                "6",
                                "--out",
                                otherSeed.toString())
                        .exitCode());

        String[] names = fileNames(first);
        assertArrayEquals(fileNames(second), names);
        assertTrue(Arrays.asList(names).contains("tokenizer.json"));
        for (String name : names) {
            assertArrayEquals(Files.readAllBytes(first.resolve(name)), Files.readAllBytes(second.resolve(name)), name);
        }
        assertFalse(Arrays.equals(
                Files.readAllBytes(first.resolve("model.safetensors")),
                Files.readAllBytes(otherSeed.resolve("model.safetensors"))));
    }

    @Test
    void configFileGetsWeightsButNoTokenizer() throws Exception {
        Path config = temp.resolve("config.json");
        new ObjectMapper().writeValue(config.toFile(), SyntheticModel.preset("deepseek_v2", "tiny"));
        Path out = temp.resolve("model");

        CliRun run = CliRun.of("init-model", "--config", config.toString(), "--seed", "3", "--out", out.toString());

        assertEquals(0, run.exitCode(), run.err());
        assertFalse(Files.exists(out.resolve("tokenizer.json")));
        Model model = Model.load(out);
        assertEquals("deepseek_v2", model.config().family().modelType());
        assertNotEquals(0, model.bytes());
    }

    private static String[] fileNames(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toArray(String[]::new);
        }
    }
}
