package io.moestream.operators.experts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.checkpoint.WeightFormat;
import io.moestream.engine.model.FeedForward;
import io.moestream.engine.synth.SyntheticModel;
import io.moestream.operators.store.ModelStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An expert's keyed state is a reference to its tensors, never the tensors: for a DeepSeek-V4 expert released in FP4,
 * its packed weights and their scales by name, a checksum of their stored bytes, and the weights materialised packed.
 */
class ExpertWeightsTest {
    @TempDir
    Path dir;

    @Test
    void fp4ExpertIsAReferenceToItsPackedTensorsAndScales() throws Exception {
        SyntheticModel.write(
                SyntheticModel.preset("deepseek_v4", "tiny"),
                5,
                dir,
                false,
                SyntheticModel.DEFAULT_MAX_SHARD_BYTES,
                true);
        ModelStore store = ModelStore.get(dir.toString(), WeightFormat.STORED);
        ExpertWeights reference = ExpertWeights.reference(dir.toString(), store, 1, 3);
        String at = "layers.1.ffn.experts.3.";
        assertEquals(
                List.of(
                        at + "w1.weight",
                        at + "w3.weight",
                        at + "w2.weight",
                        at + "w1.scale",
                        at + "w3.scale",
                        at + "w2.scale"),
                List.of(reference.tensorNames));

        // What a checkpoint holds: the reference only, whatever the expert's size.
        TypeSerializer<ExpertWeights> serializer =
                TypeInformation.of(ExpertWeights.class).createSerializer(new SerializerConfigImpl());
        DataOutputSerializer out = new DataOutputSerializer(256);
        serializer.serialize(reference, out);
        assertTrue(out.length() < 512, out.length() + " bytes");
        ExpertWeights restored = serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));

        // Materialised from the store, packed: about half a byte per weight.
        FeedForward expert = restored.materialize(store);
        long weights = 3L * expert.hiddenSize() * expert.intermediateSize();
        assertTrue(expert.bytes() < 0.6 * weights, expert.bytes() + " bytes for " + weights + " weights");
    }

    @Test
    void aChangedCheckpointIsRefusedOnRestore() throws Exception {
        SyntheticModel.write(SyntheticModel.preset("deepseek_v4", "tiny"), 5, dir, false);
        ModelStore store = ModelStore.get(dir.toString(), WeightFormat.STORED);
        ExpertWeights reference = ExpertWeights.reference(dir.toString(), store, 0, 1);
        reference.checksum ^= 1;
        IOException e = assertThrows(IOException.class, () -> reference.materialize(store));
        assertTrue(e.getMessage().contains("changed since it was checkpointed"), e.getMessage());
    }
}
