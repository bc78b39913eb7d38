package io.moestream.engine.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.checkpoint.Checkpoint;
import io.moestream.engine.checkpoint.DType;
import io.moestream.engine.checkpoint.TensorInfo;
import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.config.ModelFamily;
import io.moestream.engine.config.RouterConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SyntheticModelTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> FILES = List.of("config.json", "generation_config.json", "model.safetensors");

    @TempDir
    static Path shared;

    @TempDir
    Path dir;

    @BeforeAll
    static void writeTinyModels() throws IOException {
        for (String architecture : List.of("deepseek_v3", "deepseek_v2")) {
            SyntheticModel.write(SyntheticModel.preset(architecture, "tiny"), 0, tiny(architecture), false);
        }
    }

    private static Path tiny(String architecture) {
        return shared.resolve(architecture);
    }

    @ParameterizedTest
    @ValueSource(strings = {"deepseek_v3", "deepseek_v2"})
    void sameSeedGivesTheSameBytesAndAnotherSeedOtherWeights(String architecture) throws IOException {
        JsonNode config = SyntheticModel.preset(architecture, "tiny");
        SyntheticModel.write(config, 0, dir.resolve("again"), false);
        SyntheticModel.write(config, 1, dir.resolve("other"), false);
        for (String file : FILES) {
            assertArrayEquals(
                    Files.readAllBytes(tiny(architecture).resolve(file)),
                    Files.readAllBytes(dir.resolve("again").resolve(file)),
                    file);
        }
        assertEquals(
                Files.readString(tiny(architecture).resolve("config.json")),
                Files.readString(dir.resolve("other/config.json")));
        assertFalse(Arrays.equals(
                Files.readAllBytes(tiny(architecture).resolve("model.safetensors")),
                Files.readAllBytes(dir.resolve("other/model.safetensors"))));
    }

    /** The bytes of one seed are fixed for good: a change here breaks every replay of a synthetic model. */
    @Test
    void tinyV3BytesAreStable() throws IOException, NoSuchAlgorithmException {
        byte[] digest = MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(tiny("deepseek_v3").resolve("model.safetensors")));
        assertEquals(
                "2e45377ad7390a7133f0101ab79ccae6d7f58724932e5d3ffdc8917c77bd1f72",
                HexFormat.of().formatHex(digest));
    }

    @ParameterizedTest
    @ValueSource(strings = {"deepseek_v3", "deepseek_v2"})
    void hasEveryTensorOfThePublishedCheckpoints(String architecture) throws IOException {
        ModelConfig config = ModelConfig.load(tiny(architecture));
        Checkpoint checkpoint = Checkpoint.open(tiny(architecture), config.fp8BlockSize());
        Map<String, long[]> expected = publishedTensors(config);
        assertEquals(expected.keySet(), Set.copyOf(checkpoint.names()));
        for (Map.Entry<String, long[]> tensor : expected.entrySet()) {
            TensorInfo info = checkpoint.info(tensor.getKey(), tensor.getValue());
            DType dtype = tensor.getKey().endsWith("e_score_correction_bias") ? DType.F32 : DType.BF16;
            assertEquals(dtype, info.dtype(), tensor.getKey());
        }
    }

    @Test
    void configsReadBackAsThePresetsSay() throws IOException {
        ModelConfig v3 = ModelConfig.load(tiny("deepseek_v3"));
        assertEquals(ModelFamily.DEEPSEEK_V3, v3.family());
        assertEquals(129280, v3.vocabSize());
        assertEquals(64, v3.hiddenSize());
        assertEquals(3, v3.numLayers());
        assertEquals(1, v3.firstKDenseReplace());
        assertEquals(32, v3.qLoraRank());
        assertEquals(32, v3.kvLoraRank());
        assertEquals(24, v3.qkHeadDim());
        assertEquals(16, v3.vHeadDim());
        assertEquals(8, v3.numRoutedExperts());
        assertEquals(1, v3.numSharedExperts());
        assertEquals(
                new RouterConfig(RouterConfig.Scoring.SIGMOID, RouterConfig.Method.NOAUX_TC, 2, 2, 1, true, 2.5),
                v3.router());
        assertEquals(163840, v3.maxPositionEmbeddings());
        assertTrue(v3.rope().isYarn());
        assertEquals(40, v3.rope().factor());
        assertEquals(4096, v3.rope().originalMaxPositions());
        assertEquals(1.0, v3.rope().mscaleAllDim());
        assertEquals(0, v3.bosTokenId());
        assertEquals(List.of(1), v3.eosTokenIds());
        assertNull(v3.fp8BlockSize());

        ModelConfig v2 = ModelConfig.load(tiny("deepseek_v2"));
        assertEquals(ModelFamily.DEEPSEEK_V2, v2.family());
        assertFalse(v2.hasQLora());
        assertEquals(RouterConfig.Method.GREEDY, v2.router().method());
        assertEquals(0.707, v2.rope().mscale());
        assertEquals(0, v2.bosTokenId());
        assertEquals(List.of(1), v2.eosTokenIds());

        JsonNode generation = JSON.readTree(
                tiny("deepseek_v3").resolve("generation_config.json").toFile());
        assertEquals(
                JSON.readTree("{\"_from_model_config\": true, \"bos_token_id\": 0, \"eos_token_id\": 1}"), generation);
        JsonNode written =
                JSON.readTree(tiny("deepseek_v3").resolve("config.json").toFile());
        assertEquals(SyntheticModel.preset("deepseek_v3", "tiny"), written);
        assertEquals("DeepseekV3ForCausalLM", written.at("/architectures/0").asText());
        assertEquals("bfloat16", written.get("torch_dtype").asText());
    }

    @Test
    void weightsAreScaledForAWellConditionedForwardPass() throws IOException {
        Checkpoint checkpoint = Checkpoint.open(tiny("deepseek_v3"), null);
        for (float norm : checkpoint.readFloats("model.layers.1.post_attention_layernorm.weight", 64)) {
            assertTrue(norm >= 0.79f && norm <= 1.21f, "norm weight " + norm);
        }
        float[] kvB = checkpoint.readFloats("model.layers.0.self_attn.kv_b_proj.weight", 4 * 32, 32);
        assertEquals(1 / Math.sqrt(32), standardDeviation(kvB), 0.05 / Math.sqrt(32));
        float[] router = checkpoint.readFloats("model.layers.2.mlp.gate.weight", 8, 64);
        assertEquals(2 / Math.sqrt(64), standardDeviation(router), 0.2 / Math.sqrt(64));
        for (float bias : checkpoint.readFloats("model.layers.2.mlp.gate.e_score_correction_bias", 8)) {
            assertTrue(Math.abs(bias) <= 0.05f, "bias " + bias);
        }
    }

    @Test
    void shardsWithAnIndexAndTheSameValues() throws IOException {
        List<Path> shards = List.of(
                dir.resolve("model-00001-of-00003.safetensors"),
                dir.resolve("model-00002-of-00003.safetensors"),
                dir.resolve("model-00003-of-00003.safetensors"));
        // The embedding and the head (16.5 MB each) exceed the limit: one shard each, then all the layers.
        SyntheticModel.write(SyntheticModel.preset("deepseek_v3", "tiny"), 0, dir, false, 10_000_000);
        shards.forEach(shard -> assertTrue(Files.exists(shard), shard.toString()));
        assertTrue(Files.exists(dir.resolve("model.safetensors.index.json")));
        assertFalse(Files.exists(dir.resolve("model.safetensors")));

        Checkpoint sharded = Checkpoint.open(dir, null);
        Checkpoint single = Checkpoint.open(tiny("deepseek_v3"), null);
        assertEquals(single.names(), Set.copyOf(sharded.names()));
        assertEquals(shards.get(1), sharded.info("lm_head.weight", 129280, 64).file());
        for (String name : List.of("lm_head.weight", "model.embed_tokens.weight")) {
            assertArrayEquals(single.readFloats(name, 129280, 64), sharded.readFloats(name, 129280, 64), name);
        }
        String expert = "model.layers.2.mlp.experts.7.down_proj.weight";
        assertArrayEquals(single.readFloats(expert, 64, 32), sharded.readFloats(expert, 64, 32));
    }

    @Test
    void fp8QuantizationConfigGivesBlockScaledProjections() throws IOException {
        ObjectNode config = SyntheticModel.preset("deepseek_v3", "tiny");
        config.putObject("quantization_config")
                .put("activation_scheme", "dynamic")
                .put("fmt", "e4m3")
                .put("quant_method", "fp8")
                .putArray("weight_block_size")
                .add(16)
                .add(16);
        SyntheticModel.write(config, 0, dir, false);
        ModelConfig model = ModelConfig.load(dir);
        Checkpoint fp8 = Checkpoint.open(dir, model.fp8BlockSize());
        Checkpoint bf16 = Checkpoint.open(tiny("deepseek_v3"), null);

        Map<String, long[]> expected = publishedTensors(model);
        for (Map.Entry<String, long[]> tensor : expected.entrySet()) {
            String name = tensor.getKey();
            long[] shape = tensor.getValue();
            boolean quantised = shape.length == 2
                    && !name.contains("embed_tokens")
                    && !name.startsWith("lm_head")
                    && !name.endsWith("mlp.gate.weight");
            DType dtype = quantised ? DType.F8_E4M3 : name.endsWith("bias") ? DType.F32 : DType.BF16;
            assertEquals(dtype, fp8.info(name, shape).dtype(), name);
            assertEquals(quantised, fp8.has(name + "_scale_inv"), name);
            if (quantised) {
                fp8.info(name + "_scale_inv", (shape[0] + 15) / 16, (shape[1] + 15) / 16);
                assertCloseToFp8Precision(bf16.readFloats(name, shape), fp8.readFloats(name, shape), name);
            }
        }
    }

    @Test
    void writesAnyConfigTiedEmbeddingsAndSeveralSharedExperts() throws IOException {
        ObjectNode config = SyntheticModel.preset("deepseek_v2", "tiny");
        config.put("vocab_size", 512).put("tie_word_embeddings", true).put("n_shared_experts", 2);
        SyntheticModel.write(config, 7, dir, false);
        Checkpoint checkpoint = Checkpoint.open(dir, null);
        assertFalse(checkpoint.has("lm_head.weight"));
        checkpoint.info("model.embed_tokens.weight", 512, 64);
        checkpoint.info("model.layers.1.mlp.shared_experts.down_proj.weight", 64, 64);
        assertEquals(publishedTensors(ModelConfig.load(dir)).keySet(), Set.copyOf(checkpoint.names()));
    }

    @Test
    void addsTheDeepSeekTokenizerWhenAsked() throws IOException {
        assertFalse(Files.exists(tiny("deepseek_v3").resolve("tokenizer.json")));
        SyntheticModel.write(SyntheticModel.preset("deepseek_v2", "tiny"), 0, dir, true);
        assertTrue(Files.size(dir.resolve("tokenizer.json")) > 1_000_000);
        assertTrue(JSON.readTree(dir.resolve("tokenizer_config.json").toFile()).has("chat_template"));
    }

    @Test
    void smallPresetsHaveTensOfMillionsOfParameters() {
        for (String architecture : List.of("deepseek_v3", "deepseek_v2")) {
            long parameters =
                    DeepSeekLayout.of(ModelConfig.parse(SyntheticModel.preset(architecture, "small"))).stream()
                            .mapToLong(SyntheticWeight::elementCount)
                            .sum();
            assertTrue(parameters > 10_000_000 && parameters < 100_000_000, architecture + ": " + parameters);
        }
    }

    @Test
    void refusesWhatItCannotWrite() {
        assertThrows(IllegalArgumentException.class, () -> SyntheticModel.preset("llama", "tiny"));
        assertThrows(IllegalArgumentException.class, () -> SyntheticModel.preset("deepseek_v3", "huge"));
        ObjectNode mtp = SyntheticModel.preset("deepseek_v3", "tiny").put("num_nextn_predict_layers", 1);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> SyntheticModel.write(mtp, 0, dir, false));
        assertTrue(e.getMessage().contains("num_nextn_predict_layers"), e.getMessage());
    }

    /**
     * The tensor names and shapes of Hugging Face's DeepSeek-V2/V3 checkpoints, written out independently of the
     * generator: per-expert MLPs, {@code e_score_correction_bias} on V3 routers only, {@code q_proj} without query
     * compression, no {@code lm_head} with tied embeddings.
     */
    private static Map<String, long[]> publishedTensors(ModelConfig c) {
        Map<String, long[]> t = new TreeMap<>();
        long h = c.hiddenSize();
        long heads = c.numHeads();
        t.put("model.embed_tokens.weight", new long[] {c.vocabSize(), h});
        t.put("model.norm.weight", new long[] {h});
        if (!c.tieWordEmbeddings()) {
            t.put("lm_head.weight", new long[] {c.vocabSize(), h});
        }
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            t.put(p + "input_layernorm.weight", new long[] {h});
            t.put(p + "post_attention_layernorm.weight", new long[] {h});
            String a = p + "self_attn.";
            if (c.qLoraRank() > 0) {
                t.put(a + "q_a_proj.weight", new long[] {c.qLoraRank(), h});
                t.put(a + "q_a_layernorm.weight", new long[] {c.qLoraRank()});
                t.put(a + "q_b_proj.weight", new long[] {heads * (c.qkNopeHeadDim() + c.qkRopeHeadDim()), c.qLoraRank()
                });
            } else {
                t.put(a + "q_proj.weight", new long[] {heads * (c.qkNopeHeadDim() + c.qkRopeHeadDim()), h});
            }
            t.put(a + "kv_a_proj_with_mqa.weight", new long[] {c.kvLoraRank() + c.qkRopeHeadDim(), h});
            t.put(a + "kv_a_layernorm.weight", new long[] {c.kvLoraRank()});
            t.put(a + "kv_b_proj.weight", new long[] {heads * (c.qkNopeHeadDim() + c.vHeadDim()), c.kvLoraRank()});
            t.put(a + "o_proj.weight", new long[] {h, heads * c.vHeadDim()});
            if (i < c.firstKDenseReplace()) {
                putMlp(t, p + "mlp.", h, c.intermediateSize());
                continue;
            }
            t.put(p + "mlp.gate.weight", new long[] {c.numRoutedExperts(), h});
            if (c.family() == ModelFamily.DEEPSEEK_V3) {
                t.put(p + "mlp.gate.e_score_correction_bias", new long[] {c.numRoutedExperts()});
            }
            for (int e = 0; e < c.numRoutedExperts(); e++) {
                putMlp(t, p + "mlp.experts." + e + ".", h, c.moeIntermediateSize());
            }
            putMlp(t, p + "mlp.shared_experts.", h, (long) c.moeIntermediateSize() * c.numSharedExperts());
        }
        return t;
    }

    private static void putMlp(Map<String, long[]> t, String prefix, long hidden, long intermediate) {
        t.put(prefix + "gate_proj.weight", new long[] {intermediate, hidden});
        t.put(prefix + "up_proj.weight", new long[] {intermediate, hidden});
        t.put(prefix + "down_proj.weight", new long[] {hidden, intermediate});
    }

    /** E4M3 keeps 3 mantissa bits: within 1/16 relative, or a subnormal step of the block's scale for tiny values. */
    private static void assertCloseToFp8Precision(float[] reference, float[] dequantised, String name) {
        float amax = 0;
        for (float v : reference) {
            amax = Math.max(amax, Math.abs(v));
        }
        for (int i = 0; i < reference.length; i++) {
            double error = Math.abs(dequantised[i] - reference[i]);
            double allowed = Math.abs(reference[i]) / 16 + amax / 448 * 0x1p-9 + Math.abs(reference[i]) / 128;
            assertTrue(error <= allowed, name + "[" + i + "]: " + dequantised[i] + " vs " + reference[i]);
        }
    }

    private static double standardDeviation(float[] values) {
        double sum = 0;
        double squares = 0;
        for (float v : values) {
            sum += v;
            squares += (double) v * v;
        }
        double mean = sum / values.length;
        return Math.sqrt(squares / values.length - mean * mean);
    }
}
