package io.moestream.job.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code tokenize}: JSON Lines of texts in, JSON Lines of token ids out. */
@Command(
        name = "tokenize",
        description = {
            "Encodes texts with the model's tokenizer.json: the raw text, no chat template, no BOS added.",
            "Reads JSON Lines {\"id\": ..., \"text\": \"...\"} and writes {\"id\": ..., \"ids\": [...]} per line, "
                    + "the id copied as given (null when absent). Blank lines are skipped."
        })
final class TokenizeCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParentCommand
    private MoeStreamCli root;

    @Spec
    private CommandSpec spec;

    @Mixin
    private ModelOption model;

    @Option(names = "--input", paramLabel = "FILE", description = "JSON Lines to read (default: standard input).")
    private Path input;

    @Option(names = "--output", paramLabel = "FILE", description = "Where to write (default: standard output).")
    private Path output;

    @Override
    public Integer call() throws IOException {
        Tokenizer tokenizer = model.open().tokenizer();
        try (BufferedReader in = new BufferedReader(openInput())) {
            Writer out = output == null ? spec.commandLine().getOut() : Files.newBufferedWriter(output);
            try {
                tokenizeLines(tokenizer, in, out);
            } finally {
                if (output == null) {
                    out.flush();
                } else {
                    out.close();
                }
            }
        }
        return 0;
    }

    private Reader openInput() throws IOException {
        return input == null
                ? new InputStreamReader(root.stdin(), StandardCharsets.UTF_8)
                : Files.newBufferedReader(input, StandardCharsets.UTF_8);
    }

    private void tokenizeLines(Tokenizer tokenizer, BufferedReader in, Writer out) throws IOException {
        int lineNumber = 0;
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            lineNumber++;
            if (line.isBlank()) {
                continue;
            }
            JsonNode record = parseRecord(line, lineNumber);
            ObjectNode result = JSON.createObjectNode();
            result.set("id", record.path("id").isMissingNode() ? JSON.nullNode() : record.get("id"));
            ArrayNode ids = result.putArray("ids");
            for (int id : tokenizer.encode(record.get("text").asText())) {
                ids.add(id);
            }
            out.write(JSON.writeValueAsString(result));
            out.write('\n');
        }
    }

    private JsonNode parseRecord(String line, int lineNumber) throws IOException {
        String where = (input == null ? "standard input" : input.toString()) + ", line " + lineNumber;
        JsonNode record;
        try {
            record = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IOException(where + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (record == null || !record.isObject() || !record.path("text").isTextual()) {
            throw new IOException(where + ": expected an object with a string \"text\"");
        }
        return record;
    }
}
