package io.moestream.job.cli;

import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.model.DenseModel;
import io.moestream.engine.model.ExpertProvider;
import io.moestream.engine.model.FeedForward;
import io.moestream.engine.model.ForwardPass;
import io.moestream.engine.model.MicroBatch;
import io.moestream.engine.model.SequenceCache;
import io.moestream.engine.sampling.Sampler;
import io.moestream.engine.tensor.Parallel;
import java.util.SplittableRandom;

/**
 * One run of llama.cpp's batched bench on the engine's forward pass: {@code batch} sequences prefill {@code promptLen}
 * synthetic tokens (in micro-batches of at most {@code prefillRows} rows), then decode {@code genLen} steps together,
 * one row per sequence per step, all in one micro-batch. Decoding is greedy (argmax, as the Flink job samples at
 * temperature 0): the prefill's logits give each sequence its first token, and each decode step feeds the last token
 * and picks the next, so a run generates {@code genLen + 1} ids per sequence, {@code genLen} of them by decode steps.
 */
final class BatchBenchmark {
    /** A timed phase with the work it did. */
    record Phase(double seconds, long tokens, double flops, double weightBytes) {
        double tokensPerSecond() {
            return tokens / seconds;
        }

        double gigaflopsPerSecond() {
            return flops / seconds / 1e9;
        }

        double gigabytesPerSecond() {
            return weightBytes / seconds / 1e9;
        }
    }

    /** The two phases, and the ids each sequence generated ({@code [batch][genLen + 1]}). */
    record Run(Phase prefill, Phase decode, int[][] generated) {}

    private final DenseModel dense;
    private final ExpertProvider experts;
    private final ModelCost cost;
    private final Parallel parallel;
    private final int promptLen;
    private final int genLen;
    private final int prefillRows;
    private final long seed;

    BatchBenchmark(
            DenseModel dense,
            ExpertProvider experts,
            ModelCost cost,
            Parallel parallel,
            int promptLen,
            int genLen,
            int prefillRows,
            long seed) {
        this.dense = dense;
        this.experts = experts;
        this.cost = cost;
        this.parallel = parallel;
        this.promptLen = promptLen;
        this.genLen = genLen;
        this.prefillRows = prefillRows;
        this.seed = seed;
    }

    /** The synthetic prompts of a run of {@code batch} sequences: the same for every run and for both paths. */
    static int[][] prompts(int batch, int promptLen, int vocab, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[][] prompts = new int[batch][promptLen];
        for (int[] prompt : prompts) {
            for (int p = 0; p < promptLen; p++) {
                prompt[p] = random.nextInt(vocab);
            }
        }
        return prompts;
    }

    Run run(int batch) {
        ModelConfig config = dense.config();
        int vocab = config.vocabSize();
        int[][] prompts = prompts(batch, promptLen, vocab, seed);
        SequenceCache[] caches = new SequenceCache[batch];
        for (int s = 0; s < batch; s++) {
            caches[s] = dense.newCache(promptLen + genLen);
        }
        int[][] generated = new int[batch][genLen + 1];
        ForwardPass pass = new ForwardPass(dense, Math.max(prefillRows, batch), parallel);
        MicroBatch rows = new MicroBatch(pass.capacity());
        float[] logits = new float[batch * vocab];
        int[] sampledFor = new int[batch];

        Tally prefill = new Tally();
        long start = System.nanoTime();
        int samples = 0;
        for (int s = 0; s < batch; s++) {
            for (int p = 0; p < promptLen; p++) {
                boolean last = p == promptLen - 1;
                rows.add(prompts[s][p], p, caches[s], last);
                if (last) {
                    sampledFor[samples++] = s;
                }
                if (rows.rows() == prefillRows) {
                    step(pass, rows, logits, prefill);
                    samples = sample(logits, vocab, sampledFor, samples, generated, 0);
                }
            }
        }
        if (rows.rows() > 0) {
            step(pass, rows, logits, prefill);
            sample(logits, vocab, sampledFor, samples, generated, 0);
        }
        long prefillEnd = System.nanoTime();

        Tally decode = new Tally();
        for (int s = 0; s < batch; s++) {
            sampledFor[s] = s;
        }
        for (int g = 0; g < genLen; g++) {
            for (int s = 0; s < batch; s++) {
                rows.add(generated[s][g], promptLen + g, caches[s], true);
            }
            step(pass, rows, logits, decode);
            sample(logits, vocab, sampledFor, batch, generated, g + 1);
        }
        long decodeEnd = System.nanoTime();
        return new Run(
                prefill.phase(prefillEnd - start, (long) batch * promptLen),
                decode.phase(decodeEnd - prefillEnd, (long) batch * genLen),
                generated);
    }

    /** Greedy tokens for the first {@code count} rows of logits, of sequences {@code sampledFor}; returns 0. */
    private static int sample(float[] logits, int vocab, int[] sampledFor, int count, int[][] generated, int position) {
        for (int i = 0; i < count; i++) {
            generated[sampledFor[i]][position] = Sampler.argmax(logits, i * vocab, vocab);
        }
        return 0;
    }

    /** One forward pass over {@code rows}, counting the experts it reads; clears {@code rows}. */
    private void step(ForwardPass pass, MicroBatch rows, float[] logits, Tally tally) {
        pass.run(rows, (layer, expert) -> {
            FeedForward weights = experts.expert(layer, expert);
            tally.weightBytes += weights.bytes();
            return weights;
        });
        int logitRows = pass.logits(logits);
        tally.weightBytes += cost.denseBytes(logitRows > 0);
        tally.flops += logitRows * cost.lmHeadFlops();
        for (int t = 0; t < rows.rows(); t++) {
            tally.flops += cost.layerFlops(rows.position(t));
        }
        rows.clear();
    }

    private static final class Tally {
        double flops;
        double weightBytes;

        Phase phase(long nanos, long tokens) {
            return new Phase(nanos / 1e9, tokens, flops, weightBytes);
        }
    }
}
