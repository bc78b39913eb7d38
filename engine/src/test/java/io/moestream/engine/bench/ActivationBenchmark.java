package io.moestream.engine.bench;

import io.moestream.engine.tensor.Kernels;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The element-wise kernels on activations, in cache (as in a forward pass): RMSNorm of one hidden state (bench-medium's
 * 1024, DeepSeek-V3's 7168), SwiGLU of that many gate/up pairs, and a softmax over that many attention scores. The
 * last two run on the vectorised exp; its cost is counted as 10 flops (the polynomial and the range reduction).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
        value = 1,
        jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class ActivationBenchmark {
    @Param({"1024", "7168"})
    public int hidden;

    private static final int EXP_FLOPS = 10;

    private float[] x;
    private float[] weight;
    private float[] out;
    private float[] gate;

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(3);
        x = RandomWeights.floats(random, hidden);
        weight = RandomWeights.floats(random, hidden);
        out = new float[hidden];
        gate = new float[hidden];
    }

    @Benchmark
    public float[] rmsNorm(Work work) {
        Kernels.rmsNorm(x, 0, weight, 1e-6, out, 0, hidden);
        // Sum of squares (2 per element), then two multiplies; x and weight read, out written.
        work.add(4L * hidden, 3L * 4 * hidden);
        return out;
    }

    @Benchmark
    public float[] siluMul(Work work) {
        System.arraycopy(x, 0, gate, 0, hidden);
        Kernels.siluMul(gate, 0, weight, 0, hidden);
        // exp, an add, a divide, a multiply per element; gate read and written, up read.
        work.add((EXP_FLOPS + 3L) * hidden, 3L * 4 * hidden);
        return gate;
    }

    @Benchmark
    public float[] softmax(Work work) {
        System.arraycopy(x, 0, out, 0, hidden);
        Kernels.softmax(out, 0, hidden);
        // max, subtract, exp, sum, scale per element; two passes of read and write.
        work.add((EXP_FLOPS + 4L) * hidden, 4L * 4 * hidden);
        return out;
    }
}
