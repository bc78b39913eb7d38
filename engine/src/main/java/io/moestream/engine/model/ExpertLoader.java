package io.moestream.engine.model;

import io.moestream.engine.checkpoint.Checkpoint;
import io.moestream.engine.checkpoint.CheckpointException;
import io.moestream.engine.config.ModelConfig;
import java.io.IOException;

/** Loads one routed expert {@code (layer, expert)} from a checkpoint: what the owner of that expert needs. */
public final class ExpertLoader {
    private static final String[] PROJECTIONS = {"gate_proj", "up_proj", "down_proj"};

    private ExpertLoader() {}

    public static FeedForward load(Checkpoint ckpt, ModelConfig c, int layer, int expert) throws IOException {
        if (!c.isMoeLayer(layer) || expert < 0 || expert >= c.numRoutedExperts()) {
            throw new IllegalArgumentException("layer " + layer + " has no routed expert " + expert);
        }
        return DenseModel.feedForward(
                ckpt, TensorNames.layer(layer, "mlp.experts." + expert + "."), c.hiddenSize(), c.moeIntermediateSize());
    }

    /** Checks that the expert's tensors exist with the right shapes, without reading them; marks them as known. */
    static void checkPresent(Checkpoint ckpt, ModelConfig c, int layer, int expert) throws CheckpointException {
        for (String proj : PROJECTIONS) {
            String name = TensorNames.expert(layer, expert, proj);
            boolean down = proj.equals("down_proj");
            ckpt.info(
                    name,
                    down ? c.hiddenSize() : c.moeIntermediateSize(),
                    down ? c.moeIntermediateSize() : c.hiddenSize());
            ckpt.skip(name);
            if (ckpt.has(name + "_scale_inv")) {
                ckpt.skip(name + "_scale_inv");
            }
        }
    }
}
