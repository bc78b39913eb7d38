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

/** RMSNorm of one hidden state: bench-medium's 1024 and DeepSeek-V3's 7168, in cache (as in a forward pass). */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
        value = 1,
        jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class RmsNormBenchmark {
    @Param({"1024", "7168"})
    public int hidden;

    private float[] x;
    private float[] weight;
    private float[] out;

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(3);
        x = RandomWeights.floats(random, hidden);
        weight = RandomWeights.floats(random, hidden);
        out = new float[hidden];
    }

    @Benchmark
    public float[] rmsNorm(Work work) {
        Kernels.rmsNorm(x, 0, weight, 1e-6, out, 0, hidden);
        // Sum of squares (2 per element), then two multiplies; x and weight read, out written.
        work.add(4L * hidden, 3L * 4 * hidden);
        return out;
    }
}
