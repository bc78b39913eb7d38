package io.moestream.engine.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.config.DeepSeekV4Config.AttentionType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** transformers 5.17's {@code DeepseekV4Config.__post_init__} derivations (V4_NOTES.md section 1). */
class DeepSeekV4ConfigTest {
    private static final AttentionType S = AttentionType.SLIDING;
    private static final AttentionType CSA = AttentionType.COMPRESSED_SPARSE;
    private static final AttentionType HCA = AttentionType.HEAVILY_COMPRESSED;

    @Test
    void defaultsAreTransformersOwn() throws Exception {
        ModelConfig c = ModelConfig.parse("{\"model_type\": \"deepseek_v4\", \"num_hidden_layers\": 6}");
        DeepSeekV4Config v4 = c.v4();
        assertTrue(c.isV4());
        assertEquals(129280, c.vocabSize());
        assertEquals(4096, c.hiddenSize());
        assertEquals(512, v4.headDim());
        assertEquals(64, c.qkRopeHeadDim(), "64/512 of head_dim");
        // Two HCA layers, then HCA and CSA alternating.
        assertEquals(List.of(HCA, HCA, HCA, CSA, HCA, CSA), v4.layerTypes());
        assertArrayEquals(new boolean[] {true, true, true, false, false, false}, v4.hashLayers());
        assertEquals(4, v4.csaRate());
        assertEquals(128, v4.hcaRate());
        assertEquals(RouterConfig.Scoring.SQRT_SOFTPLUS, c.router().scoring());
        assertTrue(c.router().normalizeTopK());
        assertEquals(1.5, c.router().routedScalingFactor());
        assertEquals(1, c.numSharedExperts());
        assertEquals(10000.0, v4.mainRope().theta());
        assertEquals(160000.0, v4.compressRope().theta());
        assertFalse(v4.compressRope().isYarn());
        for (int l = 0; l < 6; l++) {
            assertTrue(c.isMoeLayer(l), "every V4 layer is MoE");
        }
    }

    @Test
    void legacyKeysAsTheReleaseShipsThem() throws Exception {
        ModelConfig c = ModelConfig.parse("""
                {"model_type": "deepseek_v4", "num_hidden_layers": 5, "head_dim": 32, "qk_rope_head_dim": 16,
                 "compress_ratios": [0, 4, 128, 4, 0, 128], "compress_rate_hca": 8, "num_hash_layers": 2,
                 "n_shared_experts": 3, "norm_topk_prob": false, "max_position_embeddings": 4096,
                 "rope_scaling": {"type": "yarn", "factor": 4, "original_max_position_embeddings": 64,
                                  "beta_fast": 32, "beta_slow": 1, "mscale": 0.7, "truncate": false}}""");
        DeepSeekV4Config v4 = c.v4();
        // The 6th ratio (the MTP block's) is dropped; the HCA rate comes from compress_rate_hca, not the 128.
        assertEquals(List.of(S, CSA, HCA, CSA, S), v4.layerTypes());
        assertEquals(8, v4.hcaRate());
        assertEquals(8, v4.compressRate(2));
        assertEquals(0, v4.compressRate(0));
        assertEquals(16, c.qkRopeHeadDim());
        assertArrayEquals(new boolean[] {true, true, false, false, false}, v4.hashLayers());
        assertEquals(1, c.numSharedExperts(), "n_shared_experts is ignored");
        assertTrue(c.router().normalizeTopK(), "norm_topk_prob is ignored");
        // YaRN applies to the compressed branches only, with attention_factor 1 and truncation always on.
        assertFalse(v4.mainRope().isYarn());
        assertTrue(v4.compressRope().isYarn());
        assertEquals(160000.0, v4.compressRope().theta());
        assertEquals(4, v4.compressRope().factor());
        assertEquals(1.0, v4.compressRope().cosSinScale());
        assertTrue(v4.compressRope().truncate());
    }

    @Test
    void modernKeysAndNestedRope() throws Exception {
        ModelConfig c = ModelConfig.parse("""
                {"model_type": "deepseek_v4", "num_hidden_layers": 3, "head_dim": 64, "partial_rotary_factor": 0.25,
                 "layer_types": ["heavily_compressed_attention", "sliding_attention", "compressed_sparse_attention"],
                 "compress_rates": {"compressed_sparse_attention": 2, "heavily_compressed_attention": 16},
                 "mlp_layer_types": ["moe", "hash_moe", "moe"],
                 "rope_parameters": {"main": {"rope_type": "default", "rope_theta": 5000.0},
                                     "compress": {"rope_type": "yarn", "rope_theta": 80000.0, "factor": 2,
                                                  "original_max_position_embeddings": 32}}}""");
        DeepSeekV4Config v4 = c.v4();
        assertEquals(List.of(HCA, S, CSA), v4.layerTypes());
        assertEquals(2, v4.csaRate());
        assertEquals(16, v4.hcaRate());
        assertArrayEquals(new boolean[] {false, true, false}, v4.hashLayers());
        assertEquals(16, c.qkRopeHeadDim());
        assertEquals(5000.0, v4.mainRope().theta());
        assertEquals(80000.0, v4.compressRope().theta());
        assertTrue(v4.compressRope().isYarn());
        // Only the flat form gets attention_factor 1: a nested YaRN table scales cos and sin by 0.1 ln(factor) + 1.
        assertEquals(0.1 * Math.log(2) + 1, v4.compressRope().cosSinScale(), 1e-12);
    }

    @Test
    void refusesWhatTransformersRefuses() {
        assertMessage("compress_ratios entry 8", """
                {"model_type": "deepseek_v4", "num_hidden_layers": 2, "compress_ratios": [0, 8]}""");
        assertMessage("'layer_types' has 1 entries", """
                {"model_type": "deepseek_v4", "num_hidden_layers": 2, "layer_types": ["sliding_attention"]}""");
        assertMessage("not a DeepSeek-V4 attention type", """
                {"model_type": "deepseek_v4", "num_hidden_layers": 1, "layer_types": ["full_attention"]}""");
        assertMessage("mlp_layer_types entry 'dense'", """
                {"model_type": "deepseek_v4", "num_hidden_layers": 1, "mlp_layer_types": ["dense"]}""");
        assertMessage("o_groups=3", """
                {"model_type": "deepseek_v4", "num_hidden_layers": 1, "num_attention_heads": 4, "head_dim": 16,
                 "o_groups": 3}""");
        assertMessage("scoring_func 'relu'", """
                {"model_type": "deepseek_v4", "scoring_func": "relu"}""");
    }

    private static void assertMessage(String expected, String json) {
        Exception e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.parse(json));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
