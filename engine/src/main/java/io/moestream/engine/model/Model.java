package io.moestream.engine.model;

import io.moestream.engine.checkpoint.Checkpoint;
import io.moestream.engine.checkpoint.WeightFormat;
import io.moestream.engine.config.ModelConfig;
import java.io.IOException;
import java.nio.file.Path;

/** A whole model in one JVM: the dense part and every routed expert, for local generation and tests. */
public final class Model implements ExpertProvider {
    private final Path directory;
    private final DenseModel dense;
    private final FeedForward[][] experts;

    private Model(Path directory, DenseModel dense, FeedForward[][] experts) {
        this.directory = directory;
        this.dense = dense;
        this.experts = experts;
    }

    /** Loads {@code config.json} and the safetensors of {@code directory}, weights as stored. */
    public static Model load(Path directory) throws IOException {
        return load(directory, WeightFormat.STORED);
    }

    /** Loads {@code config.json} and the safetensors of {@code directory}, linear weights in {@code format}. */
    public static Model load(Path directory, WeightFormat format) throws IOException {
        ModelConfig config = ModelConfig.load(directory);
        Checkpoint ckpt = Checkpoint.open(directory, config.fp8BlockSize(), format);
        DenseModel dense = DenseModel.load(ckpt, config);
        FeedForward[][] experts = new FeedForward[config.numLayers()][];
        for (int l = 0; l < config.numLayers(); l++) {
            if (config.isMoeLayer(l)) {
                experts[l] = new FeedForward[config.numRoutedExperts()];
                for (int e = 0; e < experts[l].length; e++) {
                    experts[l][e] = ExpertLoader.load(ckpt, config, l, e);
                }
            }
        }
        return new Model(directory, dense, experts);
    }

    public Path directory() {
        return directory;
    }

    public ModelConfig config() {
        return dense.config();
    }

    public DenseModel dense() {
        return dense;
    }

    @Override
    public FeedForward expert(int layer, int expert) {
        return experts[layer][expert];
    }

    /** Bytes of all weights held. */
    public long bytes() {
        long total = dense.bytes();
        for (FeedForward[] layer : experts) {
            if (layer != null) {
                for (FeedForward expert : layer) {
                    total += expert.bytes();
                }
            }
        }
        return total;
    }

    /** An empty cache for one sequence of this model. */
    public SequenceCache newCache(int initialCapacity) {
        return dense.newCache(initialCapacity);
    }
}
