package io.moestream.engine.model.v4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.model.ForwardPass;
import io.moestream.engine.model.MicroBatch;
import io.moestream.engine.model.Model;
import io.moestream.engine.model.SequenceCache;
import io.moestream.engine.synth.SyntheticModel;
import io.moestream.engine.tensor.Parallel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class V4PathsTest {
    @TempDir
    Path temp;

    @Test
    void chunkedAndStepwiseEqualOnePass() throws Exception {
        SyntheticModel.write(SyntheticModel.preset("deepseek_v4", "tiny"), 3, temp, false);
        Model model = Model.load(temp);
        int vocab = model.config().vocabSize();
        int[] prompt = new SplittableRandom(5).ints(45, 2, vocab).toArray();
        try (Parallel parallel = Parallel.create(2)) {
            float[] full = logits(model, prompt, new int[] {prompt.length}, parallel);
            int[] ones = new int[prompt.length];
            Arrays.fill(ones, 1);
            float[] stepwise = logits(model, prompt, ones, parallel);
            float[] chunked = logits(model, prompt, new int[] {5, 3, 11, 1, 9, 16}, parallel);
            double max = 0;
            for (float v : full) {
                assertTrue(Float.isFinite(v));
                max = Math.max(max, Math.abs(v));
            }
            System.out.println("max |logit| " + max);
            assertArrayEquals(full, stepwise);
            assertArrayEquals(full, chunked);
        }
    }

    static float[] logits(Model model, int[] prompt, int[] chunks, Parallel parallel) {
        int vocab = model.config().vocabSize();
        SequenceCache cache = model.newCache(8);
        ForwardPass pass = new ForwardPass(model.dense(), prompt.length, parallel);
        MicroBatch batch = new MicroBatch(prompt.length);
        float[] out = new float[prompt.length * vocab];
        float[] step = new float[prompt.length * vocab];
        int fed = 0;
        for (int chunk : chunks) {
            batch.clear();
            for (int i = 0; i < chunk; i++, fed++) {
                batch.add(prompt[fed], fed, cache, true);
            }
            pass.run(batch, model);
            int n = pass.logits(step);
            System.arraycopy(step, 0, out, (fed - chunk) * vocab, n * vocab);
        }
        return out;
    }
}
