package io.moestream.engine.bench;

import io.moestream.engine.model.FeedForward;
import io.moestream.engine.model.FeedForwardGroup;
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
 * One expert bundle: the grouped GEMM of a bench-medium routed expert (BF16 SwiGLU, hidden 1024, intermediate 512)
 * over the rows routed to it (1 in a batch-1 decode step, about 6 at batch 64 with top-6 of 64 experts, 64 when a
 * prompt's tokens crowd into it), each call on another expert, read from memory.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
        value = 1,
        jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class FeedForwardBenchmark {
    private static final int HIDDEN = 1024;
    private static final int INTERMEDIATE = 512;

    @Param({"1", "8", "64"})
    public int rows;

    @Param({"2"})
    public int threads;

    private FeedForward[] experts;
    private float[] in;
    private float[] out;
    private final FeedForwardGroup group = new FeedForwardGroup();
    private Parallel parallel;
    private int next;

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(2);
        experts = new FeedForward[RandomWeights.coldCopies(2L * 3 * HIDDEN * INTERMEDIATE)];
        for (int e = 0; e < experts.length; e++) {
            experts[e] = new FeedForward(
                    RandomWeights.linear("BF16", INTERMEDIATE, HIDDEN, random),
                    RandomWeights.linear("BF16", INTERMEDIATE, HIDDEN, random),
                    RandomWeights.linear("BF16", HIDDEN, INTERMEDIATE, random));
        }
        in = RandomWeights.floats(random, rows * HIDDEN);
        out = new float[rows * HIDDEN];
        parallel = Parallel.create(threads);
    }

    @TearDown
    public void tearDown() {
        parallel.close();
    }

    @Benchmark
    public float[] forward(Work work) {
        FeedForward expert = experts[next];
        next = (next + 1) % experts.length;
        group.forward(expert, in, 0, rows, out, 0, parallel);
        work.add(2L * rows * 3 * HIDDEN * INTERMEDIATE, expert.bytes() + 4L * rows * 2 * HIDDEN);
        return out;
    }
}
