package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.synth.SyntheticModel;
import io.moestream.engine.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizeCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> TEXTS =
            List.of("Hello, world!", "数字 12345 and émojis 🙂", "<｜User｜>hi<｜Assistant｜>", "  spaces\n\tand tabs ");

    @TempDir
    static Path temp;

    static Path model;
    static Tokenizer tokenizer;

    @BeforeAll
    static void writeModel() throws Exception {
        model = temp.resolve("tiny");
        SyntheticModel.write(SyntheticModel.preset("deepseek_v3", "tiny"), 1, model, true);
        tokenizer = Tokenizer.load(model);
    }

    @Test
    void encodesEveryLineAndDecodesBackToTheText() throws Exception {
        StringBuilder input = new StringBuilder();
        for (int i = 0; i < TEXTS.size(); i++) {
            input.append(JSON.writeValueAsString(
                            JSON.createObjectNode().put("id", "r" + i).put("text", TEXTS.get(i))))
                    .append("\n\n");
        }

        CliRun run = CliRun.withInput(input.toString(), "tokenize", "--model", model.toString());

        assertEquals(0, run.exitCode(), run.err());
        List<String> lines = run.out().lines().toList();
        assertEquals(TEXTS.size(), lines.size());
        for (int i = 0; i < TEXTS.size(); i++) {
            JsonNode line = JSON.readTree(lines.get(i));
            assertEquals("r" + i, line.get("id").asText());
            int[] ids = JSON.treeToValue(line.get("ids"), int[].class);
            assertEquals(TEXTS.get(i), tokenizer.decode(ids));
            assertArrayEquals(tokenizer.encode(TEXTS.get(i)), ids);
        }
    }

    @Test
    void readsAndWritesFiles() throws Exception {
        Path input = temp.resolve("in.jsonl");
        Path output = temp.resolve("out.jsonl");
        Files.writeString(input, "{\"id\": 7, \"text\": \"Hello\"}\n");

        CliRun run = CliRun.of(
                "tokenize", "--model", model.toString(), "--input", input.toString(), "--output", output.toString());

        assertEquals(0, run.exitCode(), run.err());
        assertEquals("", run.out());
        JsonNode line = JSON.readTree(Files.readString(output));
        assertEquals(7, line.get("id").asInt());
        assertEquals("Hello", tokenizer.decode(JSON.treeToValue(line.get("ids"), int[].class)));
    }
}
