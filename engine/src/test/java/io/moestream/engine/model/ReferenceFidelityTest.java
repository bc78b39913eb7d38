package io.moestream.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.tensor.Parallel;
import io.moestream.engine.util.Npy;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The engine against Hugging Face transformers: logits at every prompt position within 1e-4 of the reference's
 * largest magnitude, from one pass over the prompt, token by token and in chunks of unequal sizes, and greedy
 * continuations (decoded step by step through the cache) equal. The fixtures and how they were made:
 * src/test/resources/fixtures/README.md (DeepSeek-V2/V3) and V4.md (DeepSeek-V4).
 */
class ReferenceFidelityTest {
    static final double TOLERANCE = 1e-4;
    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<String> fixtures() {
        return Stream.of(
                "v3_yarn_qlora_bf16_sharded",
                "v3_plain_noqlora_f16_tied",
                "v3_yarn_mscale_f32",
                "v3_fp8_block",
                "v2_lite_softmax_greedy",
                "v2_group_limited",
                "v4_bf16_hf",
                "v4_f32_official",
                "v4_fp8_fp4_official",
                "v4_fp8_fp4_hf");
    }

    static Path fixture(String name) throws URISyntaxException {
        return Path.of(
                ReferenceFidelityTest.class.getResource("/fixtures/" + name).toURI());
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void logitsMatchTransformers(String name) throws Exception {
        Path dir = fixture(name);
        Model model = Model.load(dir);
        int vocab = model.config().vocabSize();
        JsonNode reference = JSON.readTree(dir.resolve("reference.json").toFile());
        try (Parallel parallel = Parallel.create(2)) {
            for (JsonNode c : reference.get("cases")) {
                int[] prompt = ids(c.get("prompt_ids"));
                Npy.FloatArray expected =
                        Npy.readFloat32(dir.resolve(c.get("logits").asText()));
                assertArrayEquals(new int[] {prompt.length, vocab}, expected.shape());

                float[] onePass = promptLogits(model, prompt, new int[] {prompt.length}, parallel);
                assertClose(expected.data(), onePass, name + " (one pass)");
                int[] tokenByToken = new int[prompt.length];
                java.util.Arrays.fill(tokenByToken, 1);
                float[] stepwise = promptLogits(model, prompt, tokenByToken, parallel);
                assertClose(expected.data(), stepwise, name + " (token by token)");
                float[] chunked = promptLogits(model, prompt, chunks(c, prompt.length), parallel);
                assertClose(expected.data(), chunked, name + " (chunked prefill)");
                // Stronger than the tolerance: a token's numbers do not depend on how its prompt was split.
                assertArrayEquals(onePass, stepwise, name + ": token-by-token logits differ from one pass");
                assertArrayEquals(onePass, chunked, name + ": chunked-prefill logits differ from one pass");
            }
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        double maxMagnitude = 0;
        double maxError = 0;
        for (int i = 0; i < actual.length; i++) {
            maxMagnitude = Math.max(maxMagnitude, Math.abs(expected[i]));
            maxError = Math.max(maxError, Math.abs(actual[i] - expected[i]));
        }
        assertTrue(
                maxError <= TOLERANCE * maxMagnitude,
                what + ": max |logit error| " + maxError + " > " + TOLERANCE + " * " + maxMagnitude);
    }

    /**
     * The fixture's chunking of a prompt (V4's cross chunk boundaries at and off its compression windows), else
     * chunks of 5, 3, 7, 1, 9, ... tokens.
     */
    private static int[] chunks(JsonNode c, int length) {
        if (c.has("chunks")) {
            return ids(c.get("chunks"));
        }
        int[] pattern = {5, 3, 7, 1, 9};
        java.util.List<Integer> sizes = new java.util.ArrayList<>();
        for (int fed = 0, i = 0; fed < length; i++) {
            int size = Math.min(pattern[i % pattern.length], length - fed);
            sizes.add(size);
            fed += size;
        }
        return sizes.stream().mapToInt(Integer::intValue).toArray();
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void greedyContinuationMatchesTransformers(String name) throws Exception {
        Path dir = fixture(name);
        Model model = Model.load(dir);
        JsonNode reference = JSON.readTree(dir.resolve("reference.json").toFile());
        try (Parallel parallel = Parallel.create(2)) {
            for (JsonNode c : reference.get("cases")) {
                int[] prompt = ids(c.get("prompt_ids"));
                int[] expected = ids(c.get("greedy_ids"));
                assertArrayEquals(expected, greedy(model, prompt, expected.length, parallel), name);
            }
        }
    }

    /** Logits at every prompt position, the prompt fed in passes of {@code chunks} tokens through the cache. */
    static float[] promptLogits(Model model, int[] prompt, int[] chunks, Parallel parallel) {
        int vocab = model.config().vocabSize();
        SequenceCache cache = model.newCache(prompt.length);
        ForwardPass pass = new ForwardPass(model.dense(), prompt.length, parallel);
        MicroBatch batch = new MicroBatch(prompt.length);
        float[] logits = new float[prompt.length * vocab];
        float[] step = new float[prompt.length * vocab];
        int fed = 0;
        for (int chunk : chunks) {
            batch.clear();
            for (int i = 0; i < chunk; i++, fed++) {
                batch.add(prompt[fed], fed, cache, true);
            }
            pass.run(batch, model);
            assertEquals(chunk, pass.logits(step));
            System.arraycopy(step, 0, logits, (fed - chunk) * vocab, chunk * vocab);
        }
        assertEquals(prompt.length, fed, "the chunks cover the prompt");
        return logits;
    }

    /** Prefill, then one decode step per new token, argmax each time. */
    static int[] greedy(Model model, int[] prompt, int newTokens, Parallel parallel) {
        int vocab = model.config().vocabSize();
        SequenceCache cache = model.newCache(4);
        ForwardPass pass = new ForwardPass(model.dense(), prompt.length, parallel);
        MicroBatch batch = new MicroBatch(prompt.length);
        float[] logits = new float[vocab];
        for (int p = 0; p < prompt.length; p++) {
            batch.add(prompt[p], p, cache, p == prompt.length - 1);
        }
        int[] out = new int[newTokens];
        for (int i = 0; i < newTokens; i++) {
            pass.run(batch, model);
            pass.logits(logits);
            out[i] = argmax(logits);
            batch.clear();
            batch.add(out[i], prompt.length + i, cache, true);
        }
        return out;
    }

    static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    static int[] ids(JsonNode array) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = array.get(i).asInt();
        }
        return ids;
    }
}
