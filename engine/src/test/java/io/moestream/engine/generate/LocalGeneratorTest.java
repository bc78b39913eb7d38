package io.moestream.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.model.Model;
import io.moestream.engine.sampling.SamplingParams;
import io.moestream.engine.tensor.Parallel;
import io.moestream.engine.tokenizer.BundledTokenizers;
import io.moestream.engine.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Continuous batching: the generator's tokens equal transformers' greedy continuations, and a request's tokens are
 * the same alone or among others, whatever the budgets. The fixture models' small vocabularies are valid DeepSeek-V3
 * token ids, so the real tokenizer turns them into text for the stop-string cases.
 */
class LocalGeneratorTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Model model;
    private static JsonNode reference;
    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() throws Exception {
        Path dir = Path.of(LocalGeneratorTest.class
                .getResource("/fixtures/v3_yarn_qlora_bf16_sharded")
                .toURI());
        model = Model.load(dir);
        reference = JSON.readTree(dir.resolve("reference.json").toFile());
        tokenizer = BundledTokenizers.deepSeekV3();
    }

    private static List<GenerationResult> generate(
            List<GenerationRequest> requests, int budget, int maxSequences, int threads, Set<Integer> eos) {
        try (Parallel parallel = Parallel.create(threads)) {
            return new LocalGenerator(model, tokenizer, eos, budget, maxSequences, parallel).generate(requests);
        }
    }

    private static int[] ids(JsonNode array) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = array.get(i).asInt();
        }
        return ids;
    }

    @Test
    void greedyEqualsTransformersUnderChunkedPrefillAndBatching() {
        List<GenerationRequest> requests = new ArrayList<>();
        List<int[]> expected = new ArrayList<>();
        for (JsonNode c : reference.get("cases")) {
            int[] greedy = ids(c.get("greedy_ids"));
            requests.add(new GenerationRequest(
                    "case" + requests.size(), ids(c.get("prompt_ids")), SamplingParams.greedy(greedy.length)));
            expected.add(greedy);
        }
        // A budget of 3 rows forces prompt chunks and mixes them with the other sequence's decode steps.
        List<GenerationResult> results = generate(requests, 3, 4, 2, Set.of());
        for (int i = 0; i < requests.size(); i++) {
            assertArrayEquals(expected.get(i), results.get(i).ids());
            assertEquals(FinishReason.LENGTH, results.get(i).finishReason());
            assertEquals(tokenizer.decode(expected.get(i), true), results.get(i).text());
        }
    }

    @Test
    void sampledTokensDoNotDependOnCompanionsOrBudgets() {
        SplittableRandom random = new SplittableRandom(5);
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            int[] prompt = random.ints(2 + random.nextInt(20), 0, model.config().vocabSize())
                    .toArray();
            SamplingParams params = i % 3 == 0
                    ? SamplingParams.greedy(6 + i)
                    : new SamplingParams(0.8 + 0.1 * i, i % 2 == 0 ? 0.9 : 1.0, i % 4, 1000 + i, 6 + i, List.of());
            requests.add(new GenerationRequest("r" + i, prompt, params));
        }
        List<GenerationResult> together = generate(requests, 7, 3, 2, Set.of());
        List<GenerationResult> wide = generate(requests, 64, 8, 1, Set.of());
        for (int i = 0; i < requests.size(); i++) {
            List<GenerationResult> alone = generate(List.of(requests.get(i)), 512, 1, 3, Set.of());
            assertArrayEquals(alone.get(0).ids(), together.get(i).ids(), "request " + i);
            assertArrayEquals(alone.get(0).ids(), wide.get(i).ids(), "request " + i);
            assertEquals(requests.get(i).params().maxTokens(), alone.get(0).ids().length);
        }
    }

    @Test
    void maxTokensZeroGeneratesNothing() {
        GenerationResult r = generate(
                        List.of(new GenerationRequest("z", new int[] {1, 2, 3}, SamplingParams.greedy(0))),
                        8,
                        1,
                        1,
                        Set.of())
                .get(0);
        assertEquals(0, r.ids().length);
        assertEquals("", r.text());
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertEquals(3, r.promptTokens());
    }

    @Test
    void endOfSequenceTokenStops() {
        JsonNode c = reference.get("cases").get(0);
        int[] greedy = ids(c.get("greedy_ids"));
        int eos = greedy[2];
        GenerationResult r = generate(
                        List.of(new GenerationRequest("e", ids(c.get("prompt_ids")), SamplingParams.greedy(20))),
                        16,
                        1,
                        1,
                        Set.of(eos))
                .get(0);
        assertArrayEquals(java.util.Arrays.copyOf(greedy, 3), r.ids());
        assertEquals(FinishReason.STOP, r.finishReason());
        assertEquals(tokenizer.decode(java.util.Arrays.copyOf(greedy, 2), true), r.text());
    }

    @Test
    void stopStringCutsTheText() {
        JsonNode c = reference.get("cases").get(1);
        int[] greedy = ids(c.get("greedy_ids"));
        String full = tokenizer.decode(greedy, true);
        // Stop at a piece of text that starts somewhere inside the continuation.
        String stop = full.substring(full.length() / 2, full.length() / 2 + 2);
        int cut = full.indexOf(stop);
        assertTrue(cut > 0, "stop string inside the text");
        SamplingParams params = new SamplingParams(0, 1, 0, 0, greedy.length, List.of("\u0000never", stop));
        GenerationResult r = generate(
                        List.of(new GenerationRequest("s", ids(c.get("prompt_ids")), params)), 16, 1, 1, Set.of())
                .get(0);
        assertEquals(full.substring(0, cut), r.text());
        assertEquals(FinishReason.STOP, r.finishReason());
        assertTrue(r.ids().length <= greedy.length);
    }
}
