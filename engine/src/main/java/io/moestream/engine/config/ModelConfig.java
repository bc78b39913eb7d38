package io.moestream.engine.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A model's {@code config.json}, read with the defaults of the transformers 5 config class of its family, and
 * checked: what the engine cannot run is refused here with a message naming the key.
 */
public record ModelConfig(
        ModelFamily family,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int moeIntermediateSize,
        int numLayers,
        int numHeads,
        int qLoraRank,
        int kvLoraRank,
        int qkNopeHeadDim,
        int qkRopeHeadDim,
        int vHeadDim,
        int numRoutedExperts,
        int numSharedExperts,
        int firstKDenseReplace,
        double rmsNormEps,
        boolean tieWordEmbeddings,
        int maxPositionEmbeddings,
        int bosTokenId,
        List<Integer> eosTokenIds,
        RopeConfig rope,
        RouterConfig router,
        int[] fp8BlockSize,
        DeepSeekV4Config v4) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public int qkHeadDim() {
        return qkNopeHeadDim + qkRopeHeadDim;
    }

    public boolean hasQLora() {
        return qLoraRank > 0;
    }

    public boolean isV4() {
        return family == ModelFamily.DEEPSEEK_V4;
    }

    /** transformers' rule: layer {@code i} is MoE when {@code i >= first_k_dense_replace} (every V4 layer is). */
    public boolean isMoeLayer(int layer) {
        return numRoutedExperts > 0 && layer >= firstKDenseReplace;
    }

    /** MLA's softmax scale: {@code qk_head_dim^-0.5}, times YaRN's {@code mscale(factor, mscale_all_dim)^2}. */
    public double softmaxScale() {
        return Math.pow(qkHeadDim(), -0.5) * rope.softmaxScaleMultiplier();
    }

    public static ModelConfig load(Path modelDir) throws IOException {
        Path file = modelDir.resolve("config.json");
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new IOException("no config.json in " + modelDir, e);
        } catch (IOException e) {
            throw new IOException(file + " is not valid JSON: " + e.getMessage(), e);
        }
        try {
            return parse(root);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    public static ModelConfig parse(String json) throws IOException {
        return parse(JSON.readTree(json));
    }

    public static ModelConfig parse(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("config.json must be a JSON object");
        }
        if (!root.hasNonNull("model_type")) {
            throw new IllegalArgumentException("missing 'model_type'");
        }
        ModelFamily family = ModelFamily.fromModelType(root.get("model_type").asText());
        ConfigReader r = new ConfigReader(root);
        if (family == ModelFamily.DEEPSEEK_V4) {
            return parseV4(root, r);
        }
        boolean v3 = family == ModelFamily.DEEPSEEK_V3;

        if (r.bool("attention_bias", false)) {
            throw new IllegalArgumentException("attention_bias=true is not supported");
        }
        String act = r.string("hidden_act", "silu");
        if (!act.equals("silu")) {
            throw new IllegalArgumentException("hidden_act '" + act + "' is not supported (only silu)");
        }

        int hidden = r.positive("hidden_size", v3 ? 7168 : 4096);
        int heads = r.positive("num_attention_heads", v3 ? 128 : 32);
        int ropeDim = r.positive("qk_rope_head_dim", 64);
        if (ropeDim % 2 != 0) {
            throw new IllegalArgumentException("qk_rope_head_dim must be even, got " + ropeDim);
        }
        int routed = r.integer("n_routed_experts", v3 ? 256 : 64);
        int topK = r.integer("num_experts_per_tok", v3 ? 8 : 6);
        int groups = r.integer("n_group", v3 ? 8 : 1);
        int topKGroups = r.integer("topk_group", v3 ? 4 : 1);

        RouterConfig router;
        if (v3) {
            String scoring = r.string("scoring_func", "sigmoid");
            if (!scoring.equals("sigmoid")) {
                throw new IllegalArgumentException("scoring_func '" + scoring + "' is not supported by deepseek_v3");
            }
            router = new RouterConfig(
                    RouterConfig.Scoring.SIGMOID,
                    RouterConfig.Method.NOAUX_TC,
                    topK,
                    groups,
                    topKGroups,
                    r.bool("norm_topk_prob", true),
                    r.number("routed_scaling_factor", 2.5));
        } else {
            String method = r.string("topk_method", "greedy");
            RouterConfig.Method m = switch (method) {
                case "greedy" -> RouterConfig.Method.GREEDY;
                case "group_limited_greedy" -> RouterConfig.Method.GROUP_LIMITED_GREEDY;
                default ->
                    throw new IllegalArgumentException(
                            "topk_method '" + method + "' is not supported (greedy, group_limited_greedy)");
            };
            // transformers' DeepseekV2TopkRouter never renormalises: norm_topk_prob is read but unused there.
            router = new RouterConfig(
                    RouterConfig.Scoring.SOFTMAX,
                    m,
                    topK,
                    groups,
                    topKGroups,
                    false,
                    r.number("routed_scaling_factor", 1.0));
        }
        if (routed > 0) {
            if (topK <= 0 || topK > routed) {
                throw new IllegalArgumentException(
                        "num_experts_per_tok must be in 1.." + routed + ", got " + router.topK());
            }
            boolean grouped = router.method() != RouterConfig.Method.GREEDY;
            if (grouped && (groups <= 0 || routed % groups != 0 || topKGroups <= 0 || topKGroups > groups)) {
                throw new IllegalArgumentException("n_group=" + groups + ", topk_group=" + topKGroups
                        + " do not divide n_routed_experts=" + routed);
            }
        }

        int maxPos = r.positive("max_position_embeddings", v3 ? 4096 : 2048);
        RopeConfig rope = parseRope(r, root, maxPos, v3 ? r.bool("rope_interleave", true) : true);

        int[] fp8Block = parseFp8Block(root);

        List<Integer> eos = parseEos(root, v3 ? 1 : 2);

        // An explicit null means "no query compression" (V2-Lite); an absent key takes the class default.
        int qLora =
                !root.has("q_lora_rank") ? 1536 : root.get("q_lora_rank").isNull() ? 0 : r.positive("q_lora_rank", 0);

        return new ModelConfig(
                family,
                r.positive("vocab_size", v3 ? 129280 : 102400),
                hidden,
                r.positive("intermediate_size", v3 ? 18432 : 11008),
                r.positive("moe_intermediate_size", v3 ? 2048 : 1407),
                r.positive("num_hidden_layers", v3 ? 61 : 32),
                heads,
                qLora,
                r.positive("kv_lora_rank", 512),
                r.positive("qk_nope_head_dim", 128),
                ropeDim,
                r.positive("v_head_dim", 128),
                Math.max(0, routed),
                r.integer("n_shared_experts", v3 ? 1 : 2),
                r.integer("first_k_dense_replace", v3 ? 3 : 0),
                r.number("rms_norm_eps", 1e-6),
                r.bool("tie_word_embeddings", false),
                maxPos,
                r.integer("bos_token_id", v3 ? 0 : 1),
                eos,
                rope,
                router,
                fp8Block,
                null);
    }

    /**
     * DeepSeek-V4 with the defaults of transformers' {@code DeepseekV4Config}. Keys it ignores are ignored here too
     * ({@code norm_topk_prob}, {@code topk_method}, {@code n_group}, {@code n_shared_experts}: exactly one shared
     * expert of width {@code moe_intermediate_size}, {@code num_key_value_heads}: one shared key/value head).
     */
    private static ModelConfig parseV4(JsonNode root, ConfigReader r) {
        if (r.bool("attention_bias", false) || r.bool("mlp_bias", false)) {
            throw new IllegalArgumentException("attention_bias / mlp_bias = true is not supported");
        }
        String act = r.string("hidden_act", "silu");
        if (!act.equals("silu")) {
            throw new IllegalArgumentException("hidden_act '" + act + "' is not supported (only silu)");
        }
        int layers = r.positive("num_hidden_layers", 43);
        int heads = r.positive("num_attention_heads", 64);
        int headDim = r.positive("head_dim", 512);
        // partial_rotary_factor, else the legacy qk_rope_head_dim / head_dim, else 64/512.
        double factor = r.has("partial_rotary_factor")
                ? r.number("partial_rotary_factor", 0.125)
                : r.has("qk_rope_head_dim") ? (double) r.positive("qk_rope_head_dim", 64) / headDim : 64.0 / 512;
        int ropeDim = (int) (headDim * factor);
        if (ropeDim % 2 != 0 || ropeDim > headDim || ropeDim < 0) {
            throw new IllegalArgumentException("the rotary width head_dim * partial_rotary_factor = " + ropeDim
                    + " must be even and at most head_dim " + headDim);
        }
        int routed = r.positive("n_routed_experts", 256);
        int topK = r.positive("num_experts_per_tok", 6);
        if (topK > routed) {
            throw new IllegalArgumentException("num_experts_per_tok must be in 1.." + routed + ", got " + topK);
        }
        String scoring = r.string("scoring_func", "sqrtsoftplus");
        RouterConfig.Scoring score = switch (scoring) {
            case "sqrtsoftplus" -> RouterConfig.Scoring.SQRT_SOFTPLUS;
            case "sigmoid" -> RouterConfig.Scoring.SIGMOID;
            case "softmax" -> RouterConfig.Scoring.SOFTMAX;
            default ->
                throw new IllegalArgumentException(
                        "scoring_func '" + scoring + "' is not supported (sqrtsoftplus, sigmoid, softmax)");
        };
        // V4 always renormalises the chosen weights and has no group limit.
        RouterConfig router = new RouterConfig(
                score, RouterConfig.Method.GREEDY, topK, 1, 1, true, r.number("routed_scaling_factor", 1.5));
        int maxPos = r.positive("max_position_embeddings", 1048576);
        DeepSeekV4Config v4 = DeepSeekV4Config.parse(root, r, layers, headDim, ropeDim, maxPos);
        int moeIntermediate = r.positive("moe_intermediate_size", 2048);
        return new ModelConfig(
                ModelFamily.DEEPSEEK_V4,
                r.positive("vocab_size", 129280),
                r.positive("hidden_size", 4096),
                moeIntermediate,
                moeIntermediate,
                layers,
                heads,
                r.positive("q_lora_rank", 1024),
                0,
                headDim - ropeDim,
                ropeDim,
                headDim,
                routed,
                1,
                0,
                r.number("rms_norm_eps", 1e-6),
                r.bool("tie_word_embeddings", false),
                maxPos,
                r.integer("bos_token_id", 0),
                parseEos(root, 1),
                v4.mainRope(),
                router,
                parseFp8Block(root),
                v4);
    }

    /** The {@code weight_block_size} of DeepSeek's FP8 {@code quantization_config}, or null when unquantised. */
    private static int[] parseFp8Block(JsonNode root) {
        JsonNode quant = root.get("quantization_config");
        if (quant == null || quant.isNull()) {
            return null;
        }
        String method = quant.path("quant_method").asText("");
        String fmt = quant.path("fmt").asText("e4m3");
        if (!method.equals("fp8") || !fmt.equals("e4m3")) {
            throw new IllegalArgumentException(
                    "quantization_config " + quant + " is not supported (only DeepSeek's fp8 e4m3 block scales)");
        }
        JsonNode block = quant.path("weight_block_size");
        return block.isArray() && block.size() == 2
                ? new int[] {block.get(0).asInt(), block.get(1).asInt()}
                : new int[] {128, 128};
    }

    private static List<Integer> parseEos(JsonNode root, int fallback) {
        List<Integer> eos = new ArrayList<>();
        JsonNode eosNode = root.get("eos_token_id");
        if (eosNode == null || eosNode.isNull()) {
            eos.add(fallback);
        } else if (eosNode.isArray()) {
            eosNode.forEach(n -> eos.add(n.asInt()));
        } else {
            eos.add(eosNode.asInt());
        }
        return List.copyOf(eos);
    }

    private static RopeConfig parseRope(ConfigReader r, JsonNode root, int maxPos, boolean interleaved) {
        // transformers 5 folds rope_theta and rope_scaling into rope_parameters; either may be present.
        JsonNode params = root.get("rope_parameters");
        if (params == null || params.isNull()) {
            params = root.get("rope_scaling");
        }
        double theta = r.number("rope_theta", 10000.0);
        if (params == null || params.isNull()) {
            return RopeConfig.plain(theta, maxPos, interleaved);
        }
        ConfigReader p = new ConfigReader(params);
        String type = p.string("rope_type", p.string("type", "default")).toLowerCase(Locale.ROOT);
        theta = p.number("rope_theta", theta);
        if (type.equals("default")) {
            return RopeConfig.plain(theta, maxPos, interleaved);
        }
        if (!type.equals("yarn")) {
            throw new IllegalArgumentException("rope type '" + type + "' is not supported (default, yarn)");
        }
        return RopeConfig.yarn(p, r, maxPos, theta, Double.NaN, p.bool("truncate", true), interleaved);
    }
}
