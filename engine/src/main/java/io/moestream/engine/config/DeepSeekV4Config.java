package io.moestream.engine.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What DeepSeek-V4 adds to a {@link ModelConfig}, with the derivations of transformers 5.17's {@code
 * DeepseekV4Config.__post_init__}: per-layer attention types (explicit {@code layer_types}, else the legacy {@code
 * compress_ratios}, else the default schedule), compression rates, hash-routed layers, partial rotary, and the two
 * rotary tables ({@code main} for sliding layers, {@code compress} with YaRN for the compressed branches).
 *
 * @param headDim {@code head_dim} (D): the single shared key/value head and each query head
 * @param layerTypes attention type of each layer
 * @param hashLayers per layer, whether it routes by the frozen {@code tid2eid[token]} table ({@code hash_moe})
 * @param csaRate tokens per compressed entry in {@code compressed_sparse_attention} layers (m)
 * @param hcaRate tokens per compressed entry in {@code heavily_compressed_attention} layers (m')
 * @param slidingWindow keys of the local window, the query's own token included (W)
 * @param outputGroups {@code o_groups} of the grouped output projection (G)
 * @param outputRank {@code o_lora_rank}, each group's intermediate width (R)
 * @param indexHeads {@code index_n_heads} of the Lightning Indexer
 * @param indexHeadDim {@code index_head_dim}
 * @param indexTopK {@code index_topk}: compressed entries a CSA query attends to
 * @param hcMult residual streams of the hyper-connections
 * @param hcSinkhornIters Sinkhorn-Knopp iterations of the stream mixer
 * @param hcEps the hyper-connections' epsilon
 * @param swigluLimit clip of the experts' gate and up pre-activations
 * @param mainRope rotary table of sliding layers
 * @param compressRope rotary table of compressed layers and their entries
 */
public record DeepSeekV4Config(
        int headDim,
        List<AttentionType> layerTypes,
        boolean[] hashLayers,
        int csaRate,
        int hcaRate,
        int slidingWindow,
        int outputGroups,
        int outputRank,
        int indexHeads,
        int indexHeadDim,
        int indexTopK,
        int hcMult,
        int hcSinkhornIters,
        double hcEps,
        double swigluLimit,
        RopeConfig mainRope,
        RopeConfig compressRope) {

    /** The three attention layer types of V4, by their config names. */
    public enum AttentionType {
        /** The local window only. */
        SLIDING("sliding_attention", 0),
        /** The window plus compressed entries of 4 tokens picked by the Lightning Indexer (CSA). */
        COMPRESSED_SPARSE("compressed_sparse_attention", 4),
        /** The window plus every compressed entry of 128 tokens (HCA). */
        HEAVILY_COMPRESSED("heavily_compressed_attention", 128);

        private final String configName;
        private final int legacyRatio;

        AttentionType(String configName, int legacyRatio) {
            this.configName = configName;
            this.legacyRatio = legacyRatio;
        }

        public String configName() {
            return configName;
        }

        static AttentionType fromName(String name) {
            for (AttentionType t : values()) {
                if (t.configName.equals(name)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("layer type '" + name + "' is not a DeepSeek-V4 attention type "
                    + "(sliding_attention, compressed_sparse_attention, heavily_compressed_attention)");
        }

        /** The legacy {@code compress_ratios} entry: only 0, 4 and 128 are defined. */
        static AttentionType fromLegacyRatio(int ratio) {
            for (AttentionType t : values()) {
                if (t.legacyRatio == ratio) {
                    return t;
                }
            }
            throw new IllegalArgumentException("compress_ratios entry " + ratio + " is not one of 0, 4, 128");
        }
    }

    public AttentionType layerType(int layer) {
        return layerTypes.get(layer);
    }

    public boolean isHashLayer(int layer) {
        return hashLayers[layer];
    }

    /** Tokens per compressed entry of {@code layer}, 0 for a sliding layer. */
    public int compressRate(int layer) {
        return switch (layerTypes.get(layer)) {
            case SLIDING -> 0;
            case COMPRESSED_SPARSE -> csaRate;
            case HEAVILY_COMPRESSED -> hcaRate;
        };
    }

    /** Parses the V4 part of {@code root}, whose layer count, head dim and rotary width are already known. */
    static DeepSeekV4Config parse(JsonNode root, ConfigReader r, int layers, int headDim, int ropeDim, int maxPos) {
        List<AttentionType> types = layerTypes(root, layers);
        boolean[] hash = hashLayers(root, r, layers);
        JsonNode rates = root.get("compress_rates");
        ConfigReader ratesReader =
                new ConfigReader(rates != null && rates.isObject() ? rates : JsonNodeFactory.instance.objectNode());
        int csa = ratesReader.positive(AttentionType.COMPRESSED_SPARSE.configName, 4);
        int hca = ratesReader.positive(AttentionType.HEAVILY_COMPRESSED.configName, 128);
        csa = r.positive("compress_rate_csa", csa);
        hca = r.positive("compress_rate_hca", hca);
        int heads = r.positive("num_attention_heads", 64);
        int groups = r.positive("o_groups", 8);
        if ((long) heads * headDim % groups != 0) {
            throw new IllegalArgumentException("o_groups=" + groups
                    + " does not divide num_attention_heads * head_dim = " + (long) heads * headDim);
        }
        int indexHeadDim = r.positive("index_head_dim", 128);
        if (ropeDim > indexHeadDim) {
            throw new IllegalArgumentException("the rotary width " + ropeDim + " exceeds index_head_dim " + indexHeadDim
                    + " (the indexer ropes it)");
        }
        int iters = r.positive("hc_sinkhorn_iters", 20);
        RopeConfig main = RopeConfig.plain(r.number("rope_theta", 10000.0), maxPos, true);
        RopeConfig compress = compressRope(root, r, maxPos);
        JsonNode nested = root.get("rope_parameters");
        if (nested != null
                && nested.path("main").isObject()
                && nested.path("compress").isObject()) {
            main = ropeOf(new ConfigReader(nested.get("main")), maxPos, r.number("rope_theta", 10000.0));
            compress =
                    ropeOf(new ConfigReader(nested.get("compress")), maxPos, r.number("compress_rope_theta", 160000.0));
        }
        return new DeepSeekV4Config(
                headDim,
                List.copyOf(types),
                hash,
                csa,
                hca,
                r.positive("sliding_window", 128),
                groups,
                r.positive("o_lora_rank", 1024),
                r.positive("index_n_heads", 64),
                indexHeadDim,
                r.positive("index_topk", 512),
                r.positive("hc_mult", 4),
                iters,
                r.number("hc_eps", 1e-6),
                r.number("swiglu_limit", 10.0),
                main,
                compress);
    }

    /** Explicit {@code layer_types}, else legacy {@code compress_ratios}, else 2 HCA then HCA/CSA alternating. */
    private static List<AttentionType> layerTypes(JsonNode root, int layers) {
        List<AttentionType> types = new ArrayList<>();
        JsonNode explicit = root.get("layer_types");
        JsonNode legacy = root.get("compress_ratios");
        if (explicit != null && !explicit.isNull()) {
            requireList("layer_types", explicit, layers);
            explicit.forEach(n -> types.add(AttentionType.fromName(n.asText())));
        } else if (legacy != null && !legacy.isNull()) {
            requireList("compress_ratios", legacy, layers);
            legacy.forEach(n -> types.add(AttentionType.fromLegacyRatio(n.asInt())));
        } else {
            for (int i = 0; i < layers; i++) {
                types.add(
                        i < 2 || (i - 2) % 2 == 0 ? AttentionType.HEAVILY_COMPRESSED : AttentionType.COMPRESSED_SPARSE);
            }
        }
        // The released V4-Flash lists 44 compress_ratios for 43 layers: the last belongs to the MTP block.
        return types.subList(0, layers);
    }

    private static boolean[] hashLayers(JsonNode root, ConfigReader r, int layers) {
        boolean[] hash = new boolean[layers];
        JsonNode explicit = root.get("mlp_layer_types");
        if (explicit != null && !explicit.isNull()) {
            requireList("mlp_layer_types", explicit, layers);
            for (int i = 0; i < layers; i++) {
                String type = explicit.get(i).asText();
                hash[i] = switch (type) {
                    case "hash_moe" -> true;
                    case "moe" -> false;
                    default ->
                        throw new IllegalArgumentException(
                                "mlp_layer_types entry '" + type + "' is not one of hash_moe, moe");
                };
            }
            return hash;
        }
        int hashCount = r.integer("num_hash_layers", 3);
        for (int i = 0; i < Math.min(layers, Math.max(0, hashCount)); i++) {
            hash[i] = true;
        }
        return hash;
    }

    private static void requireList(String key, JsonNode list, int layers) {
        if (!list.isArray()) {
            throw new IllegalArgumentException("'" + key + "' must be a list, got " + list);
        }
        if (list.size() < layers) {
            throw new IllegalArgumentException(
                    "'" + key + "' has " + list.size() + " entries for num_hidden_layers=" + layers);
        }
    }

    /**
     * The compressed branches' rope: the flat {@code rope_parameters} (or legacy {@code rope_scaling}) keys with
     * {@code compress_rope_theta} as base; a YaRN table gets {@code attention_factor} 1 unless the config sets it.
     * transformers reads {@code truncate} from the nested dict, where it is never found, so it is always true.
     */
    private static RopeConfig compressRope(JsonNode root, ConfigReader r, int maxPos) {
        JsonNode params = root.get("rope_parameters");
        if (params == null || params.isNull()) {
            params = root.get("rope_scaling");
        }
        double theta = r.number("compress_rope_theta", 160000.0);
        if (params == null || params.isNull() || !params.isObject()) {
            return RopeConfig.plain(theta, maxPos, true);
        }
        return ropeOf(new ConfigReader(params), maxPos, theta, r, 1.0);
    }

    /**
     * A table of the nested {@code {"main": ..., "compress": ...}} form, used as it is: unlike the flat form, a YaRN
     * table without {@code attention_factor} gets YaRN's own scaling of cos and sin.
     */
    private static RopeConfig ropeOf(ConfigReader p, int maxPos, double theta) {
        return ropeOf(p, maxPos, p.number("rope_theta", theta), null, Double.NaN);
    }

    private static RopeConfig ropeOf(ConfigReader p, int maxPos, double theta, ConfigReader top, double attention) {
        String type = p.string("rope_type", p.string("type", "default")).toLowerCase(Locale.ROOT);
        if (type.equals("default")) {
            return RopeConfig.plain(theta, maxPos, true);
        }
        if (!type.equals("yarn")) {
            throw new IllegalArgumentException(
                    "rope type '" + type + "' is not supported for DeepSeek-V4 (default, yarn)");
        }
        return RopeConfig.yarn(p, top, maxPos, theta, attention, true, true);
    }
}
