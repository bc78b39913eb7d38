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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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

    @ParameterizedTest
    @ValueSource(strings = {"deepseek_v2", "deepseek_v4"})
    void configFileGetsWeightsButNoTokenizer(String architecture) throws Exception {
        Path config = temp.resolve("config.json");
        new ObjectMapper().writeValue(config.toFile(), SyntheticModel.preset(architecture, "tiny"));
        Path out = temp.resolve("model");

        CliRun run = CliRun.of("init-model", "--config", config.toString(), "--seed", "3", "--out", out.toString());

        assertEquals(0, run.exitCode(), run.err());
        assertFalse(Files.exists(out.resolve("tokenizer.json")));
        Model model = Model.load(out);
        assertEquals(architecture, model.config().family().modelType());
        assertNotEquals(0, model.bytes());
    }

    @Test
    void deepSeekV4InItsReleasedFormat() throws Exception {
        Path bf16 = temp.resolve("v4");
        Path fp4 = temp.resolve("v4-fp4");
        CliRun plain = CliRun.of(
                "init-model", "--arch", "deepseek_v4", "--preset", "tiny", "--seed", "2", "--out", bf16.toString());
        assertEquals(0, plain.exitCode(), plain.err());
        CliRun packed = CliRun.of(
                "init-model",
                "--arch",
                "deepseek_v4",
                "--preset",
                "tiny",
                "--seed",
                "2",
                "--quant-experts",
                "fp4",
                "--out",
                fp4.toString());
        assertEquals(0, packed.exitCode(), packed.err());
        assertTrue(packed.err().contains("FP4 experts"), packed.err());
        assertTrue(Files.exists(fp4.resolve("tokenizer.json")), "V4 presets use DeepSeek-V3's tokenizer files");
        Model dense = Model.load(bf16);
        Model quantised = Model.load(fp4);
        assertEquals("deepseek_v4", quantised.config().family().modelType());
        // The experts shrink from 2 bytes per weight to about half a byte; everything else is unchanged.
        long expertWeights =
                3L * quantised.config().hiddenSize() * quantised.config().moeIntermediateSize();
        long expertsBf16 = dense.bytes() - dense.dense().bytes();
        long expertsFp4 = quantised.bytes() - quantised.dense().bytes();
        assertEquals(dense.dense().bytes(), quantised.dense().bytes());
        assertTrue(expertsFp4 < 0.3 * expertsBf16, expertsFp4 + " vs " + expertsBf16);
        assertTrue(expertsFp4 > 0.5 * expertWeights, "at least half a byte per weight");
    }

    @Test
    void fp4ExpertsAreRefusedForFamiliesThatHaveNone() {
        CliRun run = CliRun.of(
                "init-model",
                "--arch",
                "deepseek_v3",
                "--preset",
                "tiny",
                "--quant-experts",
                "fp4",
                "--out",
                temp.resolve("v3").toString());
        assertNotEquals(0, run.exitCode());
        assertTrue(run.err().contains("FP4 experts are DeepSeek-V4's format"), run.err());
        CliRun unknown = CliRun.of(
                "init-model",
                "--arch",
                "deepseek_v4",
                "--preset",
                "tiny",
                "--quant-experts",
                "nf4",
                "--out",
                temp.resolve("v4").toString());
        assertNotEquals(0, unknown.exitCode());
        assertTrue(unknown.err().contains("unknown format 'nf4'"), unknown.err());
    }

    private static String[] fileNames(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toArray(String[]::new);
        }
    }
}
