package io.moestream.engine.model.v4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.model.ForwardPass;
import io.moestream.engine.model.MicroBatch;
import io.moestream.engine.model.Model;
import io.moestream.engine.model.SequenceCache;
import io.moestream.engine.synth.SyntheticModel;
import io.moestream.engine.tensor.Parallel;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a V4 sequence's cache costs, against V3's MLA cache: the figures of the README's table, and the estimate that
 * admission control reserves against what a real cache holds.
 */
class V4CacheTest {
    private static final int MILLION = 1 << 20;

    @Test
    void flashSizedCacheGrowsAFraction() throws Exception {
        // DeepSeek-V4-Flash's dimensions (transformers' defaults) with transformers' default layer schedule: 23 HCA
        // layers and 20 CSA layers. DeepSeek-V3 (671B): 61 MLA layers of latent 512 and rope key 64.
        ModelConfig v4 = ModelConfig.parse("{\"model_type\": \"deepseek_v4\"}");
        ModelConfig v3 = ModelConfig.parse("{\"model_type\": \"deepseek_v3\"}");
        long v4PerToken = (SequenceCache.bytesFor(v4, MILLION) - SequenceCache.bytesFor(v4, 0)) / MILLION;
        long v3PerToken = (SequenceCache.bytesFor(v3, MILLION) - SequenceCache.bytesFor(v3, 0)) / MILLION;
        // float32: CSA (512 + 128) / 4 and HCA 512 / 128 floats per token, against 2 * 512 + 64 per MLA layer.
        assertEquals(4L * (20 * 160 + 23 * 4), v4PerToken);
        assertEquals(4L * 61 * (2 * 512 + 64), v3PerToken);
        // The fixed part: 43 windows of 127 rows of 512, and the compressors' tails.
        long fixed = SequenceCache.bytesFor(v4, 0);
        assertEquals(4L * 43 * 127 * 512 + 4L * (23 * 2 * 128 * 512 + 20 * 3 * 2 * 4 * (512 + 128)), fixed);
    }

    @Test
    void realCacheHoldsWhatTheEstimateSays(@TempDir Path dir) throws Exception {
        SyntheticModel.write(SyntheticModel.preset("deepseek_v4", "tiny"), 2, dir, false);
        Model model = Model.load(dir);
        int tokens = 96;
        SequenceCache cache = model.newCache(tokens);
        MicroBatch batch = new MicroBatch(tokens);
        SplittableRandom random = new SplittableRandom(1);
        for (int p = 0; p < tokens; p++) {
            batch.add(random.nextInt(model.config().vocabSize()), p, cache, p == tokens - 1);
        }
        try (Parallel parallel = Parallel.create(1)) {
            new ForwardPass(model.dense(), tokens, parallel).run(batch, model);
        }
        assertEquals(tokens, cache.length());
        long estimate = SequenceCache.bytesFor(model.config(), tokens);
        // Entry arrays grow by doubling, so the real cache holds at most twice the entries' part more.
        long entries = estimate - SequenceCache.bytesFor(model.config(), 0);
        assertTrue(cache.bytes() >= estimate && cache.bytes() <= estimate + entries, cache.bytes() + " vs " + estimate);
    }
}
