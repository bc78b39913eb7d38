package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.synth.SyntheticModel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code run} and {@code plan}: the command-line contract of the Flink job over files. */
class RunCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path temp;

    static Path model;

    @BeforeAll
    static void writeModel() throws Exception {
        model = temp.resolve("tiny");
        SyntheticModel.write(SyntheticModel.preset("deepseek_v3", "tiny"), 2, model, true);
    }

    @Test
    void badLinesBecomeDeadLettersAndGoodLinesComplete(@TempDir Path dir) throws Exception {
        List<String> lines = List.of(
                "{\"id\": \"a\", \"prompt\": \"Hello\", \"max_tokens\": 3, \"metadata\": {\"row\": \"1\"}}",
                "{\"id\": \"b\", \"prompt\": \"x\", \"max_tokens\": 0}",
                "not json at all",
                "{\"id\": \"c\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"max_tokens\": 2}",
                "{\"id\": \"d\", \"messages\": [{\"role\": \"wizard\", \"content\": \"Hi\"}]}",
                "{\"id\": \"e\", \"prompt_ids\": [5, 6, 7], \"max_tokens\": 4, \"ignore_eos\": true}");
        Path input = Files.write(dir.resolve("requests.jsonl"), lines, StandardCharsets.UTF_8);
        Path output = dir.resolve("completions.jsonl");
        Path dead = dir.resolve("dead-letters.jsonl");

        CliRun run = CliRun.of(
                "run",
                "--model",
                model.toString(),
                "--input",
                input.toString(),
                "--output",
                output.toString(),
                "--dead-letters",
                dead.toString(),
                "--parallelism",
                "2");
        assertEquals(0, run.exitCode(), run.err());

        List<String> completions = Files.readAllLines(output, StandardCharsets.UTF_8);
        assertEquals(3, completions.size());
        JsonNode first = JSON.readTree(completions.get(0));
        assertEquals("a", first.get("request_id").asText(), "completions in input order");
        assertEquals(3, first.get("ids").size());
        assertEquals("length", first.get("finish_reason").asText());
        assertEquals("1", first.get("metadata").get("row").asText());
        assertEquals(3, first.get("usage").get("completion_tokens").asInt());
        assertEquals("c", JSON.readTree(completions.get(1)).get("request_id").asText());
        JsonNode byIds = JSON.readTree(completions.get(2));
        assertEquals("e", byIds.get("request_id").asText());
        assertEquals(3, byIds.get("usage").get("prompt_tokens").asInt());
        assertEquals(4, byIds.get("ids").size());

        List<String> codes = new ArrayList<>();
        for (String line : Files.readAllLines(dead, StandardCharsets.UTF_8)) {
            JsonNode letter = JSON.readTree(line);
            assertTrue(!letter.get("message").asText().isEmpty());
            assertTrue(lines.contains(letter.get("original").asText()), "the original line is kept");
            codes.add(letter.get("code").asText());
        }
        assertEquals(
                List.of("OUT_OF_RANGE", "UNDECODABLE", "UNKNOWN_ROLE"),
                codes.stream().sorted().toList());
    }

    @Test
    void planShowsTheLoop() throws Exception {
        CliRun run = CliRun.of("plan", "--model", model.toString(), "--parallelism", "3");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode plan = JSON.readTree(run.out());
        List<String> operators = new ArrayList<>();
        for (JsonNode node : plan.get("nodes")) {
            operators.add(node.get("type").asText());
            assertEquals(3, node.get("parallelism").asInt());
        }
        for (String expected : List.of("Tokenize", "Scheduler", "Experts", "FeedbackTail", "Detokenize")) {
            assertTrue(operators.contains(expected), expected + " in " + operators);
        }
    }

    @Test
    void missingInputIsAUsageError(@TempDir Path dir) {
        CliRun run = CliRun.of(
                "run",
                "--model",
                model.toString(),
                "--input",
                dir.resolve("none").toString(),
                "--output",
                "x");
        assertEquals(2, run.exitCode());
        assertEquals(1, run.err().strip().lines().count(), run.err());
    }
}
