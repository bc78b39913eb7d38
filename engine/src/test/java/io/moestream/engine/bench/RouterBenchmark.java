package io.moestream.engine.bench;

import io.moestream.engine.config.RouterConfig;
import io.moestream.engine.model.MicroBatch;
import io.moestream.engine.model.Router;
import io.moestream.engine.tensor.F32Linear;
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
 * DeepSeek-V3's router on bench-medium's MoE layer: float32 gate (64 experts x 1024), sigmoid scores,
 * bias-corrected top-6 within the best 4 of 8 groups.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
        value = 1,
        jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class RouterBenchmark {
    private static final int HIDDEN = 1024;
    private static final int EXPERTS = 64;
    private static final int TOP_K = 6;

    @Param({"1", "64"})
    public int rows;

    @Param({"2"})
    public int threads;

    private Router router;
    /** The rows' token ids (a learned router does not read them). */
    private MicroBatch tokens;

    private float[] hidden;
    private float[] logits;
    private int[] expertIds;
    private float[] weights;
    private Parallel parallel;

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(4);
        RouterConfig config =
                new RouterConfig(RouterConfig.Scoring.SIGMOID, RouterConfig.Method.NOAUX_TC, TOP_K, 8, 4, true, 2.5);
        float[] gate = RandomWeights.floats(random, EXPERTS * HIDDEN);
        router = new Router(config, new F32Linear(gate, EXPERTS, HIDDEN), RandomWeights.floats(random, EXPERTS), null);
        tokens = new MicroBatch(rows);
        for (int t = 0; t < rows; t++) {
            tokens.add(t, t, null, false);
        }
        hidden = RandomWeights.floats(random, rows * HIDDEN);
        logits = new float[rows * EXPERTS];
        expertIds = new int[rows * TOP_K];
        weights = new float[rows * TOP_K];
        parallel = Parallel.create(threads);
    }

    @TearDown
    public void tearDown() {
        parallel.close();
    }

    @Benchmark
    public int[] route(Work work) {
        router.route(hidden, tokens, rows, logits, expertIds, weights, parallel);
        // The gate GEMM dominates the arithmetic; its weights and the hidden rows are what is read.
        work.add(2L * rows * EXPERTS * HIDDEN, 4L * EXPERTS * HIDDEN + 4L * rows * HIDDEN);
        return expertIds;
    }
}
