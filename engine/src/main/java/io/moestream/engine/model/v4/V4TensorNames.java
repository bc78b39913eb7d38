package io.moestream.engine.model.v4;

import io.moestream.engine.checkpoint.Checkpoint;
import io.moestream.engine.checkpoint.CheckpointException;
import java.util.regex.Pattern;

/**
 * The tensor names of a DeepSeek-V4 checkpoint, in either of the two layouts it is published in: DeepSeek's own
 * ({@code embed.weight}, {@code layers.0.attn.wq_a.weight}, {@code hc_head_fn}, ...) and the one transformers'
 * {@code save_pretrained} writes (the same per-layer names under {@code model.}, {@code model.embed_tokens.weight},
 * {@code model.hc_head.hc_fn}, ...; {@code head.weight} at the top in both). transformers loads both to the same
 * tensors; so does this engine. The layout is recognised from the embedding's name.
 */
public final class V4TensorNames {
    /** The two published layouts. */
    public enum Layout {
        /** DeepSeek's release: no {@code model.} prefix. */
        OFFICIAL,
        /** What transformers 5.17's {@code save_pretrained} writes for V4. */
        TRANSFORMERS
    }

    /** Multi-token-prediction tensors: not part of next-token inference, ignored as transformers ignores them. */
    private static final Pattern MTP = Pattern.compile("(^|\\.)mtp\\..*");

    private final Layout layout;
    private final String prefix;

    private V4TensorNames(Layout layout) {
        this.layout = layout;
        this.prefix = layout == Layout.OFFICIAL ? "" : "model.";
    }

    /** The names of a layout. */
    public static V4TensorNames of(Layout layout) {
        return new V4TensorNames(layout);
    }

    /** The layout {@code ckpt} is written in. */
    public static V4TensorNames of(Checkpoint ckpt) throws CheckpointException {
        if (ckpt.has("embed.weight")) {
            return new V4TensorNames(Layout.OFFICIAL);
        }
        if (ckpt.has("model.embed_tokens.weight")) {
            return new V4TensorNames(Layout.TRANSFORMERS);
        }
        throw new CheckpointException("no DeepSeek-V4 embedding in " + ckpt.directory()
                + ": expected 'embed.weight' (DeepSeek's layout) or 'model.embed_tokens.weight' (transformers')");
    }

    public Layout layout() {
        return layout;
    }

    public String embedding() {
        return layout == Layout.OFFICIAL ? "embed.weight" : "model.embed_tokens.weight";
    }

    public String head() {
        return "head.weight";
    }

    public String finalNorm() {
        return prefix + "norm.weight";
    }

    /** {@code fn}, {@code base} or {@code scale} of the hyper-head that collapses the streams before the final norm. */
    public String hyperHead(String part) {
        return layout == Layout.OFFICIAL ? "hc_head_" + part : "model.hc_head.hc_" + part;
    }

    /** {@code layers.L.<leaf>} with the layout's prefix. */
    public String layer(int layer, String leaf) {
        return prefix + "layers." + layer + "." + leaf;
    }

    /** Gate ({@code w1}), up ({@code w3}) and down ({@code w2}) projection of a routed expert. */
    public String[] expertProjections(int layer, int expert) {
        String at = "ffn.experts." + expert + ".";
        return new String[] {
            layer(layer, at + "w1.weight"), layer(layer, at + "w3.weight"), layer(layer, at + "w2.weight")
        };
    }

    /** Whether {@code name} belongs to the multi-token-prediction block, which inference leaves out. */
    public static boolean isMultiTokenPrediction(String name) {
        return MTP.matcher(name).matches();
    }
}
