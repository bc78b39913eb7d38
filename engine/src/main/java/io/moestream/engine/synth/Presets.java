package io.moestream.engine.synth;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The configs of the synthetic models, written with the keys and values DeepSeek publishes (DeepSeek-V3's,
 * DeepSeek-V2-Lite's and DeepSeek-V4's {@code config.json}), only smaller. All families use DeepSeek-V3's vocabulary
 * and tokenizer (V4 keeps its 129,280 tokens).
 */
final class Presets {
    private static final int DEEPSEEK_V3_VOCAB = 129280;

    private Presets() {}

    static ObjectNode config(String architecture, String size) {
        boolean tiny = switch (size) {
            case "tiny" -> true;
            case "small" -> false;
            default -> throw new IllegalArgumentException("unknown synthetic model size '" + size + "' (tiny, small)");
        };
        return switch (architecture) {
            case "deepseek_v3" -> deepSeekV3(tiny);
            case "deepseek_v2" -> deepSeekV2(tiny);
            case "deepseek_v4" -> deepSeekV4(tiny);
            default ->
                throw new IllegalArgumentException("unknown synthetic model architecture '" + architecture
                        + "' (deepseek_v3, deepseek_v2, deepseek_v4)");
        };
    }

    private static ObjectNode deepSeekV3(boolean tiny) {
        ObjectNode config = common("DeepseekV3ForCausalLM", "deepseek_v3", tiny);
        config.put("q_lora_rank", tiny ? 32 : 256);
        config.put("n_routed_experts", tiny ? 8 : 16);
        config.put("num_experts_per_tok", tiny ? 2 : 4);
        config.put("n_group", tiny ? 2 : 4);
        config.put("topk_group", tiny ? 1 : 2);
        config.put("topk_method", "noaux_tc");
        config.put("scoring_func", "sigmoid");
        config.put("norm_topk_prob", true);
        config.put("routed_scaling_factor", 2.5);
        config.put("n_shared_experts", 1);
        config.put("num_nextn_predict_layers", 0);
        config.set("rope_scaling", yarn(1.0));
        return config;
    }

    /** Tiny is shaped like V2-Lite (no query compression, greedy routing), small like V2 (both, group-limited). */
    private static ObjectNode deepSeekV2(boolean tiny) {
        ObjectNode config = common("DeepseekV2ForCausalLM", "deepseek_v2", tiny);
        if (tiny) {
            config.putNull("q_lora_rank");
        } else {
            config.put("q_lora_rank", 128);
        }
        config.put("n_routed_experts", tiny ? 8 : 16);
        config.put("num_experts_per_tok", tiny ? 2 : 4);
        config.put("n_group", tiny ? 1 : 4);
        config.put("topk_group", tiny ? 1 : 2);
        config.put("topk_method", tiny ? "greedy" : "group_limited_greedy");
        config.put("scoring_func", "softmax");
        config.put("norm_topk_prob", false);
        config.put("routed_scaling_factor", 1.0);
        config.put("n_shared_experts", tiny ? 1 : 2);
        config.set("rope_scaling", yarn(0.707));
        return config;
    }

    /**
     * DeepSeek-V4 in its release's config style (legacy {@code compress_ratios} with one trailing entry for the
     * multi-token-prediction block, {@code num_hash_layers}, {@code qk_rope_head_dim}, flat YaRN {@code rope_scaling}
     * for the compressed branches). Tiny has one layer of each attention type and compresses HCA windows of 8 tokens
     * instead of 128 ({@code compress_rate_hca}), so that short prompts already reach its compressed entries; small
     * (hidden 512, 8 layers, 32 experts top-4) keeps the released rates (4 and 128), two sliding layers first as
     * V4-Flash, three hash-routed layers, and widths that are multiples of 32 (FP4 experts).
     */
    private static ObjectNode deepSeekV4(boolean tiny) {
        ObjectNode config = JsonNodeFactory.instance.objectNode();
        config.putArray("architectures").add("DeepseekV4ForCausalLM");
        config.put("model_type", "deepseek_v4");
        config.put("vocab_size", DEEPSEEK_V3_VOCAB);
        config.put("hidden_size", tiny ? 64 : 512);
        config.put("moe_intermediate_size", tiny ? 32 : 256);
        config.put("num_hidden_layers", tiny ? 4 : 8);
        var ratios = config.putArray("compress_ratios");
        for (int ratio : tiny ? new int[] {0, 4, 128, 4, 0} : new int[] {0, 0, 4, 128, 4, 128, 4, 128, 0}) {
            ratios.add(ratio);
        }
        if (tiny) {
            config.put("compress_rate_hca", 8);
        }
        config.put("num_hash_layers", tiny ? 1 : 3);
        config.put("num_attention_heads", tiny ? 4 : 8);
        config.put("num_key_value_heads", 1);
        config.put("head_dim", tiny ? 32 : 128);
        config.put("qk_rope_head_dim", tiny ? 16 : 64);
        config.put("q_lora_rank", tiny ? 32 : 256);
        config.put("o_groups", tiny ? 2 : 4);
        config.put("o_lora_rank", tiny ? 16 : 128);
        config.put("sliding_window", tiny ? 8 : 128);
        config.put("index_n_heads", 8);
        config.put("index_head_dim", tiny ? 32 : 64);
        config.put("index_topk", tiny ? 4 : 64);
        config.put("n_routed_experts", tiny ? 8 : 32);
        config.put("num_experts_per_tok", tiny ? 2 : 4);
        config.put("n_shared_experts", 1);
        config.put("scoring_func", "sqrtsoftplus");
        config.put("topk_method", "noaux_tc");
        config.put("norm_topk_prob", true);
        config.put("routed_scaling_factor", 1.5);
        config.put("swiglu_limit", 10.0);
        config.put("hc_mult", tiny ? 2 : 4);
        config.put("hc_sinkhorn_iters", 20);
        config.put("hc_eps", 1e-6);
        config.put("max_position_embeddings", 1048576);
        config.put("compress_rope_theta", 160000);
        ObjectNode rope = config.putObject("rope_scaling");
        rope.put("type", "yarn");
        rope.put("factor", 16);
        rope.put("original_max_position_embeddings", 65536);
        rope.put("beta_fast", 32);
        rope.put("beta_slow", 1);
        config.put("num_nextn_predict_layers", 0);
        putShared(config);
        return config;
    }

    private static ObjectNode common(String architecture, String modelType, boolean tiny) {
        ObjectNode config = JsonNodeFactory.instance.objectNode();
        config.putArray("architectures").add(architecture);
        config.put("model_type", modelType);
        config.put("vocab_size", DEEPSEEK_V3_VOCAB);
        config.put("hidden_size", tiny ? 64 : 256);
        config.put("intermediate_size", tiny ? 128 : 1024);
        config.put("moe_intermediate_size", tiny ? 32 : 256);
        config.put("num_hidden_layers", tiny ? 3 : 4);
        config.put("first_k_dense_replace", 1);
        config.put("num_attention_heads", tiny ? 4 : 8);
        config.put("num_key_value_heads", tiny ? 4 : 8);
        config.put("kv_lora_rank", tiny ? 32 : 128);
        config.put("qk_nope_head_dim", tiny ? 16 : 32);
        config.put("qk_rope_head_dim", tiny ? 8 : 16);
        config.put("v_head_dim", tiny ? 16 : 32);
        config.put("max_position_embeddings", 163840);
        putShared(config);
        return config;
    }

    /** The keys every family publishes alike. */
    private static void putShared(ObjectNode config) {
        config.put("hidden_act", "silu");
        config.put("rms_norm_eps", 1e-6);
        config.put("initializer_range", 0.02);
        config.put("rope_theta", 10000);
        config.put("attention_bias", false);
        config.put("attention_dropout", 0.0);
        config.put("tie_word_embeddings", false);
        config.put("bos_token_id", 0);
        config.put("eos_token_id", 1);
        config.put("use_cache", true);
        config.put("torch_dtype", "bfloat16");
    }

    /** DeepSeek's YaRN extension from 4K to 160K positions; V3 uses mscale 1.0, V2 0.707. */
    private static ObjectNode yarn(double mscale) {
        ObjectNode rope = JsonNodeFactory.instance.objectNode();
        rope.put("type", "yarn");
        rope.put("factor", 40);
        rope.put("original_max_position_embeddings", 4096);
        rope.put("beta_fast", 32);
        rope.put("beta_slow", 1);
        rope.put("mscale", mscale);
        rope.put("mscale_all_dim", mscale);
        return rope;
    }
}
