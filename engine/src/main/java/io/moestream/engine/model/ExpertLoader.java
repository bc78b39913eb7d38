package io.moestream.engine.model;

import io.moestream.engine.checkpoint.Checkpoint;
import io.moestream.engine.checkpoint.CheckpointException;
import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.model.v4.V4TensorNames;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads one routed expert {@code (layer, expert)} from a checkpoint: what the owner of that expert needs. Its tensors
 * are named as the family publishes them ({@code mlp.experts.E.{gate,up,down}_proj} for V2/V3, {@code
 * ffn.experts.E.{w1,w3,w2}} for V4), with their quantisation scales where the checkpoint has them.
 */
public final class ExpertLoader {
    private ExpertLoader() {}

    public static FeedForward load(Checkpoint ckpt, ModelConfig c, int layer, int expert) throws IOException {
        String[] names = projections(ckpt, c, layer, expert);
        int hidden = c.hiddenSize();
        int inter = c.moeIntermediateSize();
        return new FeedForward(
                ckpt.linear(names[0], inter, hidden),
                ckpt.linear(names[1], inter, hidden),
                ckpt.linear(names[2], hidden, inter),
                swigluLimit(c));
    }

    /** The tensors of expert {@code (layer, expert)}: gate, up and down projection, then their scales if stored. */
    public static List<String> tensorNames(Checkpoint ckpt, ModelConfig c, int layer, int expert)
            throws CheckpointException {
        String[] projections = projections(ckpt, c, layer, expert);
        List<String> names = new ArrayList<>(List.of(projections));
        for (String projection : projections) {
            String scale = ckpt.scaleOf(projection);
            if (scale != null) {
                names.add(scale);
            }
        }
        return names;
    }

    /** Checks that the expert's tensors exist with the right shapes, without reading them; marks them as known. */
    public static void checkPresent(Checkpoint ckpt, ModelConfig c, int layer, int expert) throws CheckpointException {
        String[] names = projections(ckpt, c, layer, expert);
        int hidden = c.hiddenSize();
        int inter = c.moeIntermediateSize();
        for (int p = 0; p < names.length; p++) {
            boolean down = p == 2;
            ckpt.checkLinear(names[p], down ? hidden : inter, down ? inter : hidden);
            ckpt.skip(names[p]);
            String scale = ckpt.scaleOf(names[p]);
            if (scale != null) {
                ckpt.skip(scale);
            }
        }
    }

    /**
     * A SwiGLU block of the V2/V3 names {@code <prefix>{gate,up,down}_proj.weight}: a dense MLP or the shared experts.
     */
    public static FeedForward feedForward(Checkpoint ckpt, String prefix, ModelConfig c, int intermediate)
            throws IOException {
        int hidden = c.hiddenSize();
        return new FeedForward(
                ckpt.linear(prefix + "gate_proj.weight", intermediate, hidden),
                ckpt.linear(prefix + "up_proj.weight", intermediate, hidden),
                ckpt.linear(prefix + "down_proj.weight", hidden, intermediate),
                swigluLimit(c));
    }

    /** DeepSeek-V4 clips its experts' pre-activations ({@code swiglu_limit}); V2/V3 do not. */
    public static float swigluLimit(ModelConfig c) {
        return c.isV4() ? (float) c.v4().swigluLimit() : Float.POSITIVE_INFINITY;
    }

    private static String[] projections(Checkpoint ckpt, ModelConfig c, int layer, int expert)
            throws CheckpointException {
        if (!c.isMoeLayer(layer) || expert < 0 || expert >= c.numRoutedExperts()) {
            throw new IllegalArgumentException("layer " + layer + " has no routed expert " + expert);
        }
        if (c.isV4()) {
            return V4TensorNames.of(ckpt).expertProjections(layer, expert);
        }
        return new String[] {
            TensorNames.expert(layer, expert, "gate_proj"),
            TensorNames.expert(layer, expert, "up_proj"),
            TensorNames.expert(layer, expert, "down_proj")
        };
    }
}
