package io.moestream.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SamplerTest {
    private final Sampler sampler = new Sampler();
    /** Probabilities 0.5, 0.3, 0.15, 0.05 at temperature 1. */
    private final float[] logits = {
        (float) Math.log(0.15), (float) Math.log(0.5), (float) Math.log(0.05), (float) Math.log(0.3)
    };

    private static SamplingParams params(double temperature, double topP, int topK, long seed) {
        return new SamplingParams(temperature, topP, topK, seed, 16, List.of());
    }

    @Test
    void greedyIsArgmaxWithTiesToTheLowerId() {
        assertEquals(1, sampler.sample(logits, 0, 4, SamplingParams.greedy(1), 0));
        assertEquals(1, sampler.sample(new float[] {0f, 2f, 2f, -1f}, 0, 4, SamplingParams.greedy(1), 0));
    }

    @Test
    void theSameSeedAndStepGiveTheSameToken() {
        for (int step = 0; step < 50; step++) {
            int a = new Sampler().sample(logits, 0, 4, params(1, 1, 0, 42), step);
            int b = sampler.sample(logits, 0, 4, params(1, 1, 0, 42), step);
            assertEquals(a, b);
        }
    }

    @Test
    void drawsFollowTheDistribution() {
        int[] counts = new int[4];
        int draws = 40_000;
        for (int step = 0; step < draws; step++) {
            counts[sampler.sample(logits, 0, 4, params(1, 1, 0, 7), step)]++;
        }
        double[] expected = {0.15, 0.5, 0.05, 0.3};
        for (int i = 0; i < 4; i++) {
            assertEquals(expected[i], counts[i] / (double) draws, 0.01, "token " + i);
        }
    }

    @Test
    void differentSeedsGiveDifferentStreams() {
        StringBuilder a = new StringBuilder();
        StringBuilder b = new StringBuilder();
        for (int step = 0; step < 64; step++) {
            a.append(sampler.sample(logits, 0, 4, params(1, 1, 0, 1), step));
            b.append(sampler.sample(logits, 0, 4, params(1, 1, 0, 2), step));
        }
        assertNotEquals(a.toString(), b.toString());
    }

    @Test
    void topKAndTopPRestrictTheCandidates() {
        for (int step = 0; step < 2000; step++) {
            assertEquals(1, sampler.sample(logits, 0, 4, params(1, 1, 1, 3), step));
            assertEquals(1, sampler.sample(logits, 0, 4, params(1, 0.4, 0, 3), step));
            int nucleus = sampler.sample(logits, 0, 4, params(1, 0.8, 0, 3), step);
            assertTrue(nucleus == 1 || nucleus == 3, "top_p 0.8 keeps the tokens of p=0.5 and 0.3, got " + nucleus);
            int topTwo = sampler.sample(logits, 0, 4, params(1, 1, 2, 3), step);
            assertTrue(topTwo == 1 || topTwo == 3, "top_k 2, got " + topTwo);
        }
    }

    /**
     * The bounded-heap ranking against the plain definition (sort the whole vocabulary) on a realistic vocabulary:
     * the same token for every combination of temperature, top-k and top-p.
     */
    @Test
    void partialRankingPicksWhatAFullSortPicks() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(11);
        int vocab = 5000;
        float[] logits = new float[vocab];
        for (int trial = 0; trial < 300; trial++) {
            double spread = 0.5 + trial % 7;
            for (int i = 0; i < vocab; i++) {
                logits[i] = (float) (random.nextGaussian() * spread);
            }
            logits[random.nextInt(vocab)] = logits[random.nextInt(vocab)]; // a tie
            double temperature = new double[] {0.3, 0.7, 1.0, 1.5}[trial % 4];
            double topP = new double[] {1.0, 0.9, 0.5, 0.99, 0.999}[trial % 5];
            int topK = new int[] {0, 0, 40, 1, 700}[trial % 5 == 0 ? 0 : trial % 3 + 1];
            SamplingParams p = params(temperature, topP, topK, trial);
            for (int step = 0; step < 3; step++) {
                assertEquals(
                        fullSort(logits, vocab, p, step), sampler.sample(logits, 0, vocab, p, step), "trial " + trial);
            }
        }
    }

    private static int fullSort(float[] logits, int vocab, SamplingParams p, int step) {
        float max = logits[Sampler.argmax(logits, 0, vocab)];
        float[] w = new float[vocab];
        io.moestream.engine.tensor.Kernels.scaledExp(logits, 0, vocab, max, (float) (1 / p.temperature()), w);
        Integer[] order = new Integer[vocab];
        for (int i = 0; i < vocab; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a]) : a - b);
        int candidates = p.topK() > 0 ? Math.min(p.topK(), vocab) : vocab;
        double total = 0;
        for (int i = 0; i < candidates; i++) {
            total += w[p.topK() > 0 ? order[i] : i];
        }
        if (p.topK() == 0 && p.topP() >= 1) {
            double target = Sampler.uniform(p.seed(), step) * total;
            double running = 0;
            for (int i = 0; i < vocab; i++) {
                running += w[i];
                if (target < running) {
                    return i;
                }
            }
            return vocab - 1;
        }
        int kept = candidates;
        double cumulative = 0;
        for (int r = 0; r < candidates && p.topP() < 1; r++) {
            cumulative += w[order[r]] / total;
            if (cumulative >= p.topP()) {
                kept = r + 1;
                break;
            }
        }
        double keptTotal = 0;
        for (int r = 0; r < kept; r++) {
            keptTotal += w[order[r]];
        }
        double target = Sampler.uniform(p.seed(), step) * keptTotal;
        double running = 0;
        for (int r = 0; r < kept; r++) {
            running += w[order[r]];
            if (target < running) {
                return order[r];
            }
        }
        return order[kept - 1];
    }

    @Test
    void lowTemperatureSharpens() {
        int argmaxCount = 0;
        for (int step = 0; step < 1000; step++) {
            if (sampler.sample(logits, 0, 4, params(0.05, 1, 0, 5), step) == 1) {
                argmaxCount++;
            }
        }
        assertTrue(argmaxCount > 990, "argmax drawn " + argmaxCount + " of 1000 times at temperature 0.05");
    }

    @Test
    void outOfRangeParametersAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> params(-0.1, 1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> params(1, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> params(1, 1.01, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> params(1, 1, -1, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, 1, 0, 0, -1, List.of()));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, 1, 0, 0, 1, List.of("")));
    }
}
