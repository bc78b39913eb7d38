package io.moestream.engine.bench;

import io.moestream.engine.tensor.Linear;
import io.moestream.engine.tensor.Parallel;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code y = W x} for bench-medium's shapes: an attention projection (1024x1024) and a routed expert's gate/up
 * (512x1024), as GEMV (1 row, a decode step) and GEMM (64 rows, a batch), weights read from memory.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
        value = 1,
        jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class LinearBenchmark {
    @Param({"F32", "BF16", "Q8", "FP4"})
    public String dtype;

    /** {@code OUTxIN}. */
    @Param({"1024x1024", "512x1024"})
    public String shape;

    @Param({"1", "6", "64"})
    public int rows;

    @Param({"2"})
    public int threads;

    private Linear[] weights;
    private float[] x;
    private float[] y;
    private Parallel parallel;
    private int next;

    @Setup
    public void setUp() {
        String[] dims = shape.split("x");
        int out = Integer.parseInt(dims[0]);
        int in = Integer.parseInt(dims[1]);
        SplittableRandom random = new SplittableRandom(1);
        Linear first = RandomWeights.linear(dtype, out, in, random);
        weights = new Linear[RandomWeights.coldCopies(first.bytes())];
        weights[0] = first;
        for (int i = 1; i < weights.length; i++) {
            weights[i] = RandomWeights.linear(dtype, out, in, random);
        }
        x = RandomWeights.floats(random, rows * in);
        y = new float[rows * out];
        parallel = Parallel.create(threads);
    }

    @TearDown
    public void tearDown() {
        parallel.close();
    }

    @Benchmark
    public float[] forward(Work work) {
        Linear w = weights[next];
        next = (next + 1) % weights.length;
        w.forward(x, 0, w.inFeatures(), rows, y, 0, w.outFeatures(), parallel);
        long activations = 4L * rows * (w.inFeatures() + w.outFeatures());
        work.add(2L * rows * w.outFeatures() * w.inFeatures(), w.bytes() + activations);
        return y;
    }
}
