package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.ModelDirectory;
import io.moestream.engine.chat.ChatMessage;
import io.moestream.engine.generate.GenerationRequest;
import io.moestream.engine.generate.GenerationResult;
import io.moestream.engine.generate.LocalGenerator;
import io.moestream.engine.model.Model;
import io.moestream.engine.sampling.Sampler;
import io.moestream.engine.sampling.SamplingParams;
import io.moestream.engine.synth.SyntheticModel;
import io.moestream.engine.tensor.Parallel;
import io.moestream.engine.tokenizer.Tokenizer;
import io.moestream.engine.util.Npy;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerateCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path temp;

    /** The tiny DeepSeek-V3 preset with its tokenizer. */
    static Path model;
    /** The same weights without tokenizer files. */
    static Path idsOnlyModel;

    @BeforeAll
    static void writeModels() throws Exception {
        model = temp.resolve("tiny");
        SyntheticModel.write(SyntheticModel.preset("deepseek_v3", "tiny"), 1, model, true);
        idsOnlyModel = temp.resolve("tiny-ids-only");
        SyntheticModel.write(SyntheticModel.preset("deepseek_v3", "tiny"), 1, idsOnlyModel, false);
    }

    @Test
    void greedyJsonGivesTheIdsOfTheLocalGenerator() throws Exception {
        CliRun run = CliRun.of(
                "generate",
                "--model",
                model.toString(),
                "--prompt",
                "The capital of France is",
                "--max-tokens",
                "6",
                "--json");

        assertEquals(0, run.exitCode(), run.err());
        JsonNode json = JSON.readTree(run.out());
        Tokenizer tokenizer = Tokenizer.load(model);
        GenerationResult expected =
                generateDirectly(model, tokenizer, withBos(tokenizer.encode("The capital of France is")), 6);
        assertArrayEquals(expected.ids(), JSON.treeToValue(json.get("ids"), int[].class));
        assertEquals(expected.text(), json.get("text").asText());
        assertEquals(
                expected.finishReason().wireName(), json.get("finish_reason").asText());
        Set<String> fields = new HashSet<>();
        json.fieldNames().forEachRemaining(fields::add);
        assertEquals(Set.of("ids", "text", "finish_reason"), fields);
    }

    @Test
    void chatWrapsThePromptAsOneUserMessage() throws Exception {
        CliRun run = CliRun.of(
                "generate",
                "--model",
                model.toString(),
                "--prompt",
                "Hi there",
                "--chat",
                "--max-tokens",
                "4",
                "--json");

        assertEquals(0, run.exitCode(), run.err());
        ModelDirectory dir = ModelDirectory.of(model);
        int[] prompt = dir.encodeChat(List.of(new ChatMessage("user", "Hi there")));
        assertEquals(0, prompt[0], "the template writes the BOS");
        GenerationResult expected = generateDirectly(model, dir.tokenizer(), prompt, 4);
        assertArrayEquals(
                expected.ids(), JSON.treeToValue(JSON.readTree(run.out()).get("ids"), int[].class));
    }

    @Test
    void zeroMaxTokensGeneratesNothing() throws Exception {
        CliRun run =
                CliRun.of("generate", "--model", model.toString(), "--prompt", "Hi", "--max-tokens", "0", "--json");

        assertEquals(0, run.exitCode(), run.err());
        JsonNode json = JSON.readTree(run.out());
        assertEquals(0, json.get("ids").size());
        assertEquals("", json.get("text").asText());
        assertEquals("length", json.get("finish_reason").asText());
    }

    @Test
    void promptIdsWorkWithoutTokenizerFiles() throws Exception {
        int[] prompt = {0, 1000, 2000, 3000};
        CliRun run = CliRun.of(
                "generate",
                "--model",
                idsOnlyModel.toString(),
                "--prompt-ids",
                "0,1000,2000,3000",
                "--max-tokens",
                "4");

        assertEquals(0, run.exitCode(), run.err());
        GenerationResult expected = generateDirectly(idsOnlyModel, null, prompt, 4);
        String expectedIds =
                Arrays.stream(expected.ids()).mapToObj(Integer::toString).collect(Collectors.joining(","));
        assertEquals(expectedIds + "\n", run.out());
    }

    @Test
    void logitsOutHoldsEveryPromptPositionAndPredictsTheFirstToken() throws Exception {
        Path logits = temp.resolve("logits.npy");
        CliRun run = CliRun.of(
                "generate",
                "--model",
                model.toString(),
                "--prompt-ids",
                "0,17,4242,99",
                "--max-tokens",
                "2",
                "--logits-out",
                logits.toString(),
                "--json");

        assertEquals(0, run.exitCode(), run.err());
        Npy.FloatArray array = Npy.readFloat32(logits);
        int vocab = 129280;
        assertArrayEquals(new int[] {4, vocab}, array.shape());
        int firstGenerated = JSON.readTree(run.out()).get("ids").get(0).asInt();
        assertEquals(firstGenerated, Sampler.argmax(array.data(), 3 * vocab, vocab));
    }

    @Test
    void printsTheTextWithTimingsOnStandardError() throws Exception {
        CliRun run = CliRun.of("generate", "--model", model.toString(), "--prompt", "Hello", "--max-tokens", "3");

        assertEquals(0, run.exitCode(), run.err());
        Tokenizer tokenizer = Tokenizer.load(model);
        GenerationResult expected = generateDirectly(model, tokenizer, withBos(tokenizer.encode("Hello")), 3);
        assertEquals(expected.text() + "\n", run.out());
        assertTrue(run.err().contains("tok/s"), run.err());
    }

    private static GenerationResult generateDirectly(Path dir, Tokenizer tokenizer, int[] prompt, int maxTokens)
            throws Exception {
        Model weights = Model.load(dir);
        try (Parallel parallel = Parallel.create(2)) {
            LocalGenerator generator = new LocalGenerator(weights, tokenizer, Set.of(1), 64, 1, parallel);
            return generator
                    .generate(List.of(new GenerationRequest("direct", prompt, SamplingParams.greedy(maxTokens))))
                    .get(0);
        }
    }

    /** The synthetic models' tokenizer_config.json says add_bos_token, as DeepSeek-V3's: BOS is id 0. */
    private static int[] withBos(int[] ids) {
        int[] prompt = new int[ids.length + 1];
        System.arraycopy(ids, 0, prompt, 1, ids.length);
        return prompt;
    }
}
