package io.moestream.operators.store;

import io.moestream.engine.ModelDirectory;
import io.moestream.engine.checkpoint.Checkpoint;
import io.moestream.engine.checkpoint.SafetensorsFile;
import io.moestream.engine.checkpoint.WeightFormat;
import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.model.DenseModel;
import io.moestream.engine.model.ExpertLoader;
import io.moestream.engine.model.FeedForward;
import io.moestream.operators.MoeStreamOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32C;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The TaskManager-wide model store: one per model directory, weight format and JVM, shared by every slot, so the
 * dense weights and each routed expert are read from the files (and quantised, for {@link WeightFormat#Q8}) once per
 * TaskManager however many subtasks use them.
 */
public final class ModelStore {
    private record Key(Path directory, WeightFormat format) {}

    private static final Map<Key, ModelStore> STORES = new ConcurrentHashMap<>();

    private final ModelDirectory files;
    private final ModelConfig config;
    private final Checkpoint checkpoint;
    private final Map<Integer, FeedForward> experts = new ConcurrentHashMap<>();
    private DenseModel dense;

    private ModelStore(ModelDirectory files, WeightFormat format) throws IOException {
        this.files = files;
        this.config = files.config();
        this.checkpoint = Checkpoint.open(files.path(), config.fp8BlockSize(), format);
    }

    /** The store of the job's model ({@link MoeStreamOptions#MODEL_DIR}, {@link MoeStreamOptions#WEIGHT_FORMAT}). */
    public static ModelStore get(ReadableConfig options) {
        return get(MoeStreamOptions.modelDir(options), options.get(MoeStreamOptions.WEIGHT_FORMAT));
    }

    /** The store of {@code modelDir} with linear weights in {@code format}, in this JVM; opened on first use. */
    public static ModelStore get(String modelDir, WeightFormat format) {
        Key key = new Key(Path.of(modelDir).toAbsolutePath().normalize(), format);
        return STORES.computeIfAbsent(key, k -> {
            try {
                return new ModelStore(ModelDirectory.of(k.directory()), k.format());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    public WeightFormat weightFormat() {
        return checkpoint.weightFormat();
    }

    public ModelDirectory files() {
        return files;
    }

    public ModelConfig config() {
        return config;
    }

    /** Everything but the routed experts; loaded (and the whole checkpoint checked) once. */
    public synchronized DenseModel dense() throws IOException {
        if (dense == null) {
            dense = DenseModel.load(checkpoint, config);
        }
        return dense;
    }

    /** Routed expert {@code (layer, expert)}, loaded once per JVM. */
    public FeedForward expert(int layer, int expert) {
        return experts.computeIfAbsent(layer * config.numRoutedExperts() + expert, key -> {
            try {
                return ExpertLoader.load(checkpoint, config, layer, expert);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** The tensors of routed expert {@code (layer, expert)}, with their quantisation scales where present. */
    public List<String> expertTensorNames(int layer, int expert) throws IOException {
        return ExpertLoader.tensorNames(checkpoint, config, layer, expert);
    }

    /** CRC-32C over the stored bytes of {@code tensors}: what a checkpointed reference checks on restore. */
    public long checksum(List<String> tensors) throws IOException {
        CRC32C crc = new CRC32C();
        for (String name : tensors) {
            ByteBuffer bytes = SafetensorsFile.map(checkpoint.tensor(name));
            crc.update(bytes);
        }
        return crc.getValue();
    }
}
