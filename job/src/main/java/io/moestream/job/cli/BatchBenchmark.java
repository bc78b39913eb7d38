package io.moestream.job.cli;

import io.moestream.engine.model.FeedForward;
import io.moestream.engine.model.ForwardPass;
import io.moestream.engine.model.KvCache;
import io.moestream.engine.model.MicroBatch;
import io.moestream.engine.model.Model;
import io.moestream.engine.tensor.Parallel;
import java.util.SplittableRandom;

/**
 * One run of llama.cpp's batched bench on the engine's forward pass: {@code batch} sequences prefill {@code promptLen}
 * synthetic tokens (in micro-batches of at most {@code prefillRows} rows), then decode {@code genLen} steps together,
 * one row per sequence per step, all in one micro-batch. Decode feeds synthetic ids too: it times the forward pass
 * and LM head, not sampling.
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

    record Run(Phase prefill, Phase decode) {}

    private final Model model;
    private final ModelCost cost;
    private final Parallel parallel;
    private final int promptLen;
    private final int genLen;
    private final int prefillRows;
    private final long seed;

    BatchBenchmark(
            Model model, ModelCost cost, Parallel parallel, int promptLen, int genLen, int prefillRows, long seed) {
        this.model = model;
        this.cost = cost;
        this.parallel = parallel;
        this.promptLen = promptLen;
        this.genLen = genLen;
        this.prefillRows = prefillRows;
        this.seed = seed;
    }

    Run run(int batch) {
        int vocab = model.config().vocabSize();
        SplittableRandom random = new SplittableRandom(seed);
        KvCache[] caches = new KvCache[batch];
        int[][] prompts = new int[batch][promptLen];
        for (int s = 0; s < batch; s++) {
            caches[s] = model.newCache(promptLen + genLen);
            for (int p = 0; p < promptLen; p++) {
                prompts[s][p] = random.nextInt(vocab);
            }
        }
        int[][] decodeTokens = new int[genLen][batch];
        for (int[] step : decodeTokens) {
            for (int s = 0; s < batch; s++) {
                step[s] = random.nextInt(vocab);
            }
        }
        ForwardPass pass = new ForwardPass(model.dense(), Math.max(prefillRows, batch), parallel);
        MicroBatch rows = new MicroBatch(pass.capacity());
        float[] logits = new float[batch * vocab];

        Tally prefill = new Tally();
        long start = System.nanoTime();
        for (int s = 0; s < batch; s++) {
            for (int p = 0; p < promptLen; p++) {
                rows.add(prompts[s][p], p, caches[s], p == promptLen - 1);
                if (rows.rows() == prefillRows) {
                    step(pass, rows, logits, prefill);
                }
            }
        }
        if (rows.rows() > 0) {
            step(pass, rows, logits, prefill);
        }
        long prefillEnd = System.nanoTime();

        Tally decode = new Tally();
        for (int g = 0; g < genLen; g++) {
            for (int s = 0; s < batch; s++) {
                rows.add(decodeTokens[g][s], promptLen + g, caches[s], true);
            }
            step(pass, rows, logits, decode);
        }
        long decodeEnd = System.nanoTime();
        return new Run(
                prefill.phase(prefillEnd - start, (long) batch * promptLen),
                decode.phase(decodeEnd - prefillEnd, (long) batch * genLen));
    }

    /** One forward pass over {@code rows}, counting the experts it reads; clears {@code rows}. */
    private void step(ForwardPass pass, MicroBatch rows, float[] logits, Tally tally) {
        pass.run(rows, (layer, expert) -> {
            FeedForward weights = model.expert(layer, expert);
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
