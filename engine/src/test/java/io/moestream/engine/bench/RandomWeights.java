package io.moestream.engine.bench;

import io.moestream.engine.tensor.Bf16Linear;
import io.moestream.engine.tensor.F32Linear;
import io.moestream.engine.tensor.Fp4Linear;
import io.moestream.engine.tensor.Linear;
import io.moestream.engine.tensor.NumberFormats;
import io.moestream.engine.tensor.Q8Linear;
import java.util.SplittableRandom;

/** Seeded random inputs and weights for the benchmarks (the speed of a kernel does not depend on the values). */
final class RandomWeights {
    /**
     * Weights a benchmark cycles through, in all: 4x this machine's 32 MB last-level cache, so a call reads its
     * weights from memory as a decode step does, not from a cache warmed by the previous call.
     */
    private static final long COLD_SET_BYTES = 128L << 20;

    private RandomWeights() {}

    static float[] floats(SplittableRandom random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }

    static Linear linear(String dtype, int outFeatures, int inFeatures, SplittableRandom random) {
        float[] values = floats(random, outFeatures * inFeatures);
        return switch (dtype) {
            case "F32" -> new F32Linear(values, outFeatures, inFeatures);
            case "BF16" -> {
                short[] bits = new short[values.length];
                for (int i = 0; i < values.length; i++) {
                    bits[i] = NumberFormats.floatToBf16(values[i]);
                }
                yield new Bf16Linear(bits, outFeatures, inFeatures);
            }
            case "Q8" -> Q8Linear.quantize(values, outFeatures, inFeatures);
            case "FP4" -> Fp4Linear.quantize(values, outFeatures, inFeatures);
            default -> throw new IllegalArgumentException("dtype " + dtype + " (F32, BF16, Q8, FP4)");
        };
    }

    /** How many copies of {@code bytes} of weights to cycle through so that none is still cached when used again. */
    static int coldCopies(long bytes) {
        return (int) Math.max(2, (COLD_SET_BYTES + bytes - 1) / bytes);
    }
}
