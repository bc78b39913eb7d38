package io.moestream.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Measures this machine's limits for the thread budget at hand, so benchmarks report fractions of what the machine
 * they run on can do rather than of a figure from another machine: the float32 FMA rate of the engine's 256-bit
 * vectors (12 independent chains per thread, as the 6-row kernel has), and the memory read bandwidth (a
 * vectorised sum over a buffer several times the last-level cache, split across the threads).
 */
public final class MachineProbe {
    /** Measured limits. */
    public record Limits(double fmaPeakGflops, double readBandwidthGbs) {}

    /** 64 MiB of floats: twice a 32 MiB L3, a modest addition to a benchmark's peak RSS. */
    private static final int READ_FLOATS = 16 << 20;

    private static final int FMA_ROUNDS = 2_000_000;

    /** Where the probes' results go, so the JIT cannot drop the loops that compute them. */
    private static volatile float sink;

    private MachineProbe() {}

    /** Runs both probes, each best of 5 after a warm-up (about a second in all on this machine). */
    public static Limits measure(Parallel parallel) {
        float[] buffer = new float[READ_FLOATS];
        for (int i = 0; i < buffer.length; i++) {
            buffer[i] = i & 7;
        }
        fmaGflops(parallel); // warm-up: compiles both probes
        readGbs(parallel, buffer);
        double fma = 0;
        double read = 0;
        for (int round = 0; round < 5; round++) {
            fma = Math.max(fma, fmaGflops(parallel));
            read = Math.max(read, readGbs(parallel, buffer));
        }
        return new Limits(fma, read);
    }

    private static double fmaGflops(Parallel parallel) {
        long start = System.nanoTime();
        parallel.forRange(parallel.threads(), 1, (from, to) -> {
            for (int t = from; t < to; t++) {
                sink = fmaChains(FMA_ROUNDS);
            }
        });
        double seconds = (System.nanoTime() - start) / 1e9;
        return parallel.threads() * (double) FMA_ROUNDS * 12 * Kernels.LANES * 2 / seconds / 1e9;
    }

    private static float fmaChains(int rounds) {
        FloatVector m = FloatVector.broadcast(Kernels.F, 0.999f);
        FloatVector c = FloatVector.broadcast(Kernels.F, 1e-3f);
        FloatVector a0 = c, a1 = c.add(1), a2 = c.add(2), a3 = c.add(3), a4 = c.add(4), a5 = c.add(5);
        FloatVector a6 = c.add(6), a7 = c.add(7), a8 = c.add(8), a9 = c.add(9), a10 = c.add(10), a11 = c.add(11);
        for (int i = 0; i < rounds; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
            a10 = a10.fma(m, c);
            a11 = a11.fma(m, c);
        }
        return a0.add(a1)
                .add(a2)
                .add(a3)
                .add(a4)
                .add(a5)
                .add(a6)
                .add(a7)
                .add(a8)
                .add(a9)
                .add(a10)
                .add(a11)
                .reduceLanes(VectorOperators.ADD);
    }

    private static double readGbs(Parallel parallel, float[] buffer) {
        long start = System.nanoTime();
        parallel.forRange(buffer.length / 32, 1, (from, to) -> sink = sum(buffer, from * 32, to * 32));
        double seconds = (System.nanoTime() - start) / 1e9;
        return 4.0 * buffer.length / seconds / 1e9;
    }

    private static float sum(float[] a, int from, int to) {
        FloatVector s0 = FloatVector.zero(Kernels.F), s1 = s0, s2 = s0, s3 = s0;
        for (int i = from; i < to; i += 32) {
            s0 = s0.add(FloatVector.fromArray(Kernels.F, a, i));
            s1 = s1.add(FloatVector.fromArray(Kernels.F, a, i + 8));
            s2 = s2.add(FloatVector.fromArray(Kernels.F, a, i + 16));
            s3 = s3.add(FloatVector.fromArray(Kernels.F, a, i + 24));
        }
        return s0.add(s1).add(s2).add(s3).reduceLanes(VectorOperators.ADD);
    }
}
