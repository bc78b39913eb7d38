package io.moestream.operators.experts;

import io.moestream.engine.model.FeedForward;
import io.moestream.operators.store.ModelStore;
import java.io.IOException;
import java.util.List;

/**
 * The value of an expert's keyed state: a reference to its weights (model directory, tensor names, checksum), which
 * is all Flink's POJO serializer writes into a checkpoint or savepoint (the weights are transient). The owner
 * materialises the tensors from the TaskManager's {@link ModelStore} on first use, also after a restore on another
 * TaskManager, and checks that the files are those the reference was taken from.
 */
public class ExpertWeights {
    public String modelDir;
    public int layer;
    public int expert;
    public String[] tensorNames;
    public long checksum;

    private transient FeedForward weights;

    public ExpertWeights() {}

    /** A reference to expert {@code (layer, expert)} of the store's model, with the checksum of its stored bytes. */
    public static ExpertWeights reference(String modelDir, ModelStore store, int layer, int expert) throws IOException {
        ExpertWeights ref = new ExpertWeights();
        ref.modelDir = modelDir;
        ref.layer = layer;
        ref.expert = expert;
        List<String> names = store.expertTensorNames(layer, expert);
        ref.tensorNames = names.toArray(String[]::new);
        ref.checksum = store.checksum(names);
        return ref;
    }

    /** Whether this instance holds the tensors already. */
    public boolean isMaterialized() {
        return weights != null;
    }

    /**
     * The weights, from {@code store} (the job's model directory, in the job's weight format: a reference does not
     * pin the format, so a savepoint restores with stored or 8-bit weights alike); verified the first time.
     */
    public FeedForward materialize(ModelStore store) throws IOException {
        if (weights == null) {
            long actual = store.checksum(List.of(tensorNames));
            if (actual != checksum) {
                throw new IOException("expert (" + layer + ", " + expert + ") of " + modelDir
                        + " changed since it was checkpointed: checksum " + Long.toHexString(actual) + ", expected "
                        + Long.toHexString(checksum));
            }
            weights = store.expert(layer, expert);
        }
        return weights;
    }
}
