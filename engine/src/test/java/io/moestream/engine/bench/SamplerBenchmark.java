package io.moestream.engine.bench;

import io.moestream.engine.sampling.Sampler;
import io.moestream.engine.sampling.SamplingParams;
import java.util.List;
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

/** Choosing one token from DeepSeek-V3's 129,280 logits: greedy, and temperature 0.7 with top-p 0.9. */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
        value = 1,
        jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class SamplerBenchmark {
    private static final int VOCAB = 129280;

    @Param({"greedy", "top-p"})
    public String mode;

    private final Sampler sampler = new Sampler();
    private SamplingParams params;
    private float[] logits;
    private int step;

    @Setup
    public void setUp() {
        // Logits of a trained model's scale: a few units of spread.
        logits = RandomWeights.floats(new SplittableRandom(5), VOCAB);
        for (int i = 0; i < VOCAB; i++) {
            logits[i] *= 8;
        }
        params = mode.equals("greedy")
                ? SamplingParams.greedy(Integer.MAX_VALUE)
                : new SamplingParams(0.7, 0.9, 0, 42, Integer.MAX_VALUE, List.of());
    }

    @Benchmark
    public int sample(Work work) {
        int token = sampler.sample(logits, 0, VOCAB, params, step++);
        work.add(0, 4L * VOCAB);
        return token;
    }
}
