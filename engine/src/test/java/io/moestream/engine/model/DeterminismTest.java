package io.moestream.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.tensor.Parallel;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * DESIGN.md section 3: a sequence's logits are bitwise identical whether it runs alone or in micro-batches with
 * seven other sequences of different lengths and phases (prefill chunks of other sizes next to decode steps), and
 * whatever the thread count. V4's prompts are long enough for its window to cut, its indexer to drop entries and its
 * compressors to emit entries inside chunks.
 */
class DeterminismTest {
    private static final int STEPS = 6;

    @ParameterizedTest
    @CsvSource({
        "v3_yarn_qlora_bf16_sharded, 13",
        "v2_lite_softmax_greedy, 13",
        "v3_fp8_block, 13",
        "v4_bf16_hf, 41",
        "v4_fp8_fp4_official, 41"
    })
    void logitsDoNotDependOnBatchOrThreads(String fixture, int promptLength) throws Exception {
        Model model = Model.load(ReferenceFidelityTest.fixture(fixture));
        int[] prompt = randomTokens(
                new SplittableRandom(7), promptLength, model.config().vocabSize());

        List<float[]> alone;
        try (Parallel one = Parallel.create(1)) {
            alone = run(model, prompt, 0, Integer.MAX_VALUE, one);
        }
        for (int threads : new int[] {1, 2, 3}) {
            try (Parallel parallel = Parallel.create(threads)) {
                // The target's prompt in chunks of 4, among 7 companions at other phases.
                List<float[]> crowded = run(model, prompt, 7, 4, parallel);
                for (int step = 0; step < STEPS; step++) {
                    assertArrayEquals(
                            alone.get(step),
                            crowded.get(step),
                            fixture + ": step " + step + " differs with " + threads + " threads in a crowded batch");
                }
            }
        }
    }

    /**
     * Feeds {@code prompt} in chunks of {@code chunk}, then decodes greedily for {@link #STEPS} tokens, with {@code
     * companions} other sequences sharing each micro-batch; returns the target's logits at each sampled step.
     */
    private static List<float[]> run(Model model, int[] prompt, int companions, int chunk, Parallel parallel) {
        int vocab = model.config().vocabSize();
        SplittableRandom random = new SplittableRandom(11);
        List<int[]> others = new ArrayList<>();
        List<SequenceCache> otherCaches = new ArrayList<>();
        int[] otherFed = new int[companions];
        for (int i = 0; i < companions; i++) {
            // Lengths 3..40: some still in prefill when the target decodes, some already decoding.
            others.add(randomTokens(random, 3 + random.nextInt(38), vocab));
            otherCaches.add(model.newCache(8));
        }
        SequenceCache cache = model.newCache(8);
        int capacity = chunk == Integer.MAX_VALUE ? prompt.length + companions * 5 : chunk + companions * 5;
        ForwardPass pass = new ForwardPass(model.dense(), Math.max(capacity, prompt.length), parallel);
        MicroBatch batch = new MicroBatch(capacity);
        float[] logits = new float[(companions + 1) * vocab];
        List<int[]> tokens = new ArrayList<>();
        int[] sequence = prompt.clone();
        int fed = 0;
        List<float[]> sampled = new ArrayList<>();
        while (sampled.size() < STEPS) {
            batch.clear();
            // Companions first, so the target's rows sit at varying offsets.
            for (int i = 0; i < companions; i++) {
                int[] other = others.get(i);
                int n = Math.min(1 + (i % 5), other.length - otherFed[i]);
                if (n <= 0) {
                    // Finished its prompt: keep "decoding" by feeding a pseudo-random token.
                    others.set(i, other = append(other, random.nextInt(vocab)));
                    n = 1;
                }
                for (int j = 0; j < n; j++) {
                    int pos = otherFed[i]++;
                    batch.add(other[pos], pos, otherCaches.get(i), j == n - 1);
                }
            }
            int n = Math.min(chunk, sequence.length - fed);
            int targetRow = -1;
            for (int j = 0; j < n; j++) {
                int row = batch.add(sequence[fed], fed, cache, fed == sequence.length - 1);
                if (fed == sequence.length - 1) {
                    targetRow = row;
                }
                fed++;
            }
            pass.run(batch, model);
            pass.logits(logits);
            if (targetRow >= 0) {
                int logitIndex = 0;
                for (int t = 0; t < targetRow; t++) {
                    if (batch.wantsLogits(t)) {
                        logitIndex++;
                    }
                }
                float[] mine = java.util.Arrays.copyOfRange(logits, logitIndex * vocab, (logitIndex + 1) * vocab);
                sampled.add(mine);
                sequence = append(sequence, ReferenceFidelityTest.argmax(mine));
                tokens.add(sequence);
            }
        }
        assertTrue(tokens.size() == STEPS);
        return sampled;
    }

    private static int[] append(int[] values, int value) {
        int[] out = java.util.Arrays.copyOf(values, values.length + 1);
        out[values.length] = value;
        return out;
    }

    private static int[] randomTokens(SplittableRandom random, int n, int vocab) {
        int[] tokens = new int[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = random.nextInt(vocab);
        }
        return tokens;
    }
}
