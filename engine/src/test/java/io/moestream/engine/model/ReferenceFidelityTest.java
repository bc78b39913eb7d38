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
 * largest magnitude, and greedy continuations (decoded step by step through the KV cache) equal. The fixtures and
 * how they were made: src/test/resources/fixtures/README.md.
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
                "v2_group_limited");
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

                float[] actual = promptLogits(model, prompt, parallel);
                double maxMagnitude = 0;
                double maxError = 0;
                for (int i = 0; i < actual.length; i++) {
                    maxMagnitude = Math.max(maxMagnitude, Math.abs(expected.data()[i]));
                    maxError = Math.max(maxError, Math.abs(actual[i] - expected.data()[i]));
                }
                assertTrue(
                        maxError <= TOLERANCE * maxMagnitude,
                        name + ": max |logit error| " + maxError + " > " + TOLERANCE + " * " + maxMagnitude);
            }
        }
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

    /** Logits at every prompt position from one pass over the prompt. */
    static float[] promptLogits(Model model, int[] prompt, Parallel parallel) {
        int vocab = model.config().vocabSize();
        SequenceCache cache = model.newCache(prompt.length);
        MicroBatch batch = new MicroBatch(prompt.length);
        for (int p = 0; p < prompt.length; p++) {
            batch.add(prompt[p], p, cache, true);
        }
        ForwardPass pass = new ForwardPass(model.dense(), prompt.length, parallel);
        pass.run(batch, model);
        float[] logits = new float[prompt.length * vocab];
        assertEquals(prompt.length, pass.logits(logits));
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
