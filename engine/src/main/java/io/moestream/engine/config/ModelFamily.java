package io.moestream.engine.config;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The model families the engine runs, by the {@code model_type} of their {@code config.json}. A family decides the
 * defaults of absent config keys (those of its transformers config class), its attention, its router and how it
 * carries the residual stream.
 */
public enum ModelFamily {
    /** DeepSeek-V3, R1, V3.1, Kimi-K2, Moonlight: MLA + sigmoid router with bias-corrected group-limited top-k. */
    DEEPSEEK_V3("deepseek_v3", List.of("kimi_k2")),
    /** DeepSeek-V2 and V2-Lite: MLA + softmax router, greedy or group-limited greedy. */
    DEEPSEEK_V2("deepseek_v2", List.of()),
    /**
     * DeepSeek-V4: hyper-connected residual streams, shared-KV attention over a sliding window plus compressed
     * entries (CSA with the Lightning Indexer, HCA), sqrt-softplus and hash-routed MoE.
     */
    DEEPSEEK_V4("deepseek_v4", List.of());

    private final String modelType;
    private final List<String> aliases;

    ModelFamily(String modelType, List<String> aliases) {
        this.modelType = modelType;
        this.aliases = aliases;
    }

    public String modelType() {
        return modelType;
    }

    public static ModelFamily fromModelType(String modelType) {
        String wanted = modelType.toLowerCase(Locale.ROOT);
        for (ModelFamily family : values()) {
            if (family.modelType.equals(wanted) || family.aliases.contains(wanted)) {
                return family;
            }
        }
        throw new IllegalArgumentException("unknown architecture: model_type '" + modelType + "' (supported: "
                + String.join(
                        ", ",
                        Arrays.stream(values()).map(ModelFamily::modelType).toList()) + ")");
    }
}
