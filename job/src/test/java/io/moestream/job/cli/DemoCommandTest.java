package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code demo}, end to end as a user runs it (a model written on first use, a Kafka broker and a Flink cluster in
 * this JVM), so that it cannot rot unnoticed: other tools read its last line.
 */
class DemoCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void servesEveryRequestAndTheDeadLetterAndEndsWithItsJsonLine(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("models").resolve("demo-tiny");
        CliRun run = CliRun.of("demo", "--requests", "3", "--model-dir", model.toString());
        assertEquals(0, run.exitCode(), run.out() + run.err());

        List<String> lines = run.out().strip().lines().toList();
        JsonNode result = JSON.readTree(lines.get(lines.size() - 1));
        List<String> fields = new ArrayList<>();
        result.fieldNames().forEachRemaining(fields::add);
        assertEquals(List.of("requests", "completions", "dead_letters", "seconds"), fields);
        assertEquals(3, result.get("requests").asInt());
        assertEquals(3, result.get("completions").asInt());
        assertEquals(1, result.get("dead_letters").asInt());
        assertTrue(result.get("seconds").asDouble() > 0, result.toString());

        // Each completion and the dead letter was shown as it arrived.
        for (String id : List.of("demo-1", "demo-2", "demo-3")) {
            assertEquals(
                    1, lines.stream().filter(l -> l.startsWith("  " + id + " ")).count(), run.out());
        }
        assertTrue(run.out().contains("demo-bad  dead letter: OUT_OF_RANGE: "), run.out());
        assertTrue(run.out().contains("http://localhost:"), "the web UI's address is shown: " + run.out());
        assertTrue(Files.isRegularFile(model.resolve("config.json")), "the model was written on first use");
        assertTrue(Files.isRegularFile(model.resolve("tokenizer.json")));
        try (var siblings = Files.list(model.getParent())) {
            assertEquals(List.of(model), siblings.toList(), "no partial model left behind");
        }
    }

    @Test
    void refusesBadArgumentsAndADirectoryThatHoldsSomethingElse(@TempDir Path dir) throws Exception {
        CliRun none = CliRun.of("demo", "--requests", "0");
        assertEquals(MoeStreamCli.EXIT_USAGE, none.exitCode());
        assertTrue(none.err().startsWith("moestream: error: --requests must be at least 1"), none.err());

        Files.writeString(dir.resolve("notes.txt"), "not a model");
        CliRun occupied = CliRun.of("demo", "--model-dir", dir.toString());
        assertEquals(MoeStreamCli.EXIT_RUNTIME_ERROR, occupied.exitCode());
        assertEquals(1, occupied.err().strip().lines().count(), occupied.err());
        assertTrue(occupied.err().contains("exists but holds no model"), occupied.err());
        assertEquals(
                "",
                occupied.out().lines().filter(l -> l.startsWith("{")).findAny().orElse(""));
    }
}
