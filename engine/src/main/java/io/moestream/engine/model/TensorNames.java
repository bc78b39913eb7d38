package io.moestream.engine.model;

/** The tensor names of Hugging Face's published DeepSeek checkpoints. */
public final class TensorNames {
    public static final String EMBED = "model.embed_tokens.weight";
    public static final String FINAL_NORM = "model.norm.weight";
    public static final String LM_HEAD = "lm_head.weight";

    private TensorNames() {}

    public static String layer(int layer, String suffix) {
        return "model.layers." + layer + "." + suffix;
    }

    /** {@code model.layers.L.mlp.experts.E.<proj>.weight}, proj one of gate_proj, up_proj, down_proj. */
    public static String expert(int layer, int expert, String proj) {
        return layer(layer, "mlp.experts." + expert + "." + proj + ".weight");
    }

    /** The layer index of a {@code model.layers.N.*} name, or -1. */
    public static int layerOf(String name) {
        if (!name.startsWith("model.layers.")) {
            return -1;
        }
        int start = "model.layers.".length();
        int end = name.indexOf('.', start);
        try {
            return Integer.parseInt(name.substring(start, end < 0 ? name.length() : end));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
