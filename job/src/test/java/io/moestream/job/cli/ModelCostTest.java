package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.checkpoint.Checkpoint;
import io.moestream.engine.checkpoint.WeightFormat;
import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.model.DenseModel;
import io.moestream.engine.synth.SyntheticModel;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bytes a pass reads are those of the weights as loaded: 8-bit weights are about 1.125 bytes each. */
class ModelCostTest {
    @TempDir
    static Path temp;

    static Path model;
    static ModelConfig config;

    @BeforeAll
    static void writeModel() throws Exception {
        model = temp.resolve("tiny");
        SyntheticModel.write(SyntheticModel.preset("deepseek_v3", "tiny"), 1, model, false);
        config = ModelConfig.load(model);
    }

    private static ModelCost cost(WeightFormat format) throws Exception {
        DenseModel dense = DenseModel.load(Checkpoint.open(model, config.fp8BlockSize(), format), config);
        return ModelCost.of(dense);
    }

    @Test
    void q8ReadsAboutOneByteAndAnEighthPerWeight() throws Exception {
        ModelCost stored = cost(WeightFormat.STORED);
        ModelCost q8 = cost(WeightFormat.Q8);
        long lmHeadWeights = (long) config.vocabSize() * config.hiddenSize();
        long lmHeadStored = stored.denseBytes(true) - stored.denseBytes(false);
        long lmHeadQ8 = q8.denseBytes(true) - q8.denseBytes(false);
        assertEquals(2 * lmHeadWeights, lmHeadStored, "bf16 LM head");
        assertEquals(lmHeadWeights + 4 * lmHeadWeights / 32, lmHeadQ8, "q8 LM head: int8 and a float scale per 32");
        // Layers hold norms and the router in float32 in both formats: q8 reads less, not quite 1.125/2 as much.
        assertTrue(
                q8.denseBytes(false) < 0.7 * stored.denseBytes(false),
                q8.denseBytes(false) + " vs " + stored.denseBytes(false));
    }
}
