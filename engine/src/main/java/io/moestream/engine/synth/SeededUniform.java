package io.moestream.engine.synth;

import java.nio.charset.StandardCharsets;
import java.util.stream.IntStream;

/**
 * Uniform pseudo-random values that are the same on every machine and Java version: element {@code i} of a tensor
 * is a pure function of (seed, tensor name, i), SplitMix64's finaliser over a counter, computed in integer and
 * IEEE float arithmetic only. A tensor's values therefore depend neither on which other tensors a model has nor on
 * how many threads compute them.
 */
final class SeededUniform {
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;
    private static final long FNV_OFFSET = 0xCBF29CE484222325L;
    private static final long FNV_PRIME = 0x100000001B3L;
    private static final int CHUNK = 1 << 16;

    private SeededUniform() {}

    /** {@code count} values uniform in {@code [center - halfWidth, center + halfWidth)}. */
    static float[] values(long seed, String tensorName, int count, float center, float halfWidth) {
        long key = mix(seed ^ fnv1a(tensorName));
        float[] out = new float[count];
        IntStream.range(0, (count + CHUNK - 1) / CHUNK).parallel().forEach(chunk -> {
            for (int i = chunk * CHUNK, end = Math.min(count, i + CHUNK); i < end; i++) {
                long bits = mix(key + (i + 1L) * GOLDEN_GAMMA);
                // The top 24 bits as a signed integer are exact in a float: a value in [-1, 1).
                out[i] = center + halfWidth * ((bits >> 40) * 0x1p-23f);
            }
        });
        return out;
    }

    /** SplitMix64's output function (Stafford's mix 13). */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static long fnv1a(String text) {
        long hash = FNV_OFFSET;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            hash = (hash ^ (b & 0xFF)) * FNV_PRIME;
        }
        return hash;
    }
}
