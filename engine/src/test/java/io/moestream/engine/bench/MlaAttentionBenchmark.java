package io.moestream.engine.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.model.ForwardPass;
import io.moestream.engine.model.MicroBatch;
import io.moestream.engine.model.Model;
import io.moestream.engine.model.mla.KvCache;
import io.moestream.engine.synth.SyntheticModel;
import io.moestream.engine.tensor.Parallel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
 * One decode step of MLA attention with bench-medium's shapes (hidden 1024, 16 heads, q_lora 384, kv_lora 256, rope
 * 32, nope 64, v 64): for each of {@code rows} sequences with 512 cached positions, the input norm, the query and
 * latent projections, attention over the compressed cache in the absorbed form, and o_proj, through the public
 * layer-stepped API ({@code ForwardPass.begin} then {@code attention}) of a one-layer synthetic model.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
        value = 1,
        jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class MlaAttentionBenchmark {
    private static final int CACHED_POSITIONS = 512;

    @Param({"1", "64"})
    public int rows;

    @Param({"2"})
    public int threads;

    private Path directory;
    private ForwardPass pass;
    private MicroBatch batch;
    private Parallel parallel;
    private long flopsPerCall;
    private long bytesPerCall;

    @Setup
    public void setUp() throws IOException {
        directory = Files.createTempDirectory("mla-bench");
        SyntheticModel.write(benchMediumAttentionLayer(), 6, directory, false);
        Model model = Model.load(directory);
        ModelConfig c = model.config();
        parallel = Parallel.create(threads);
        pass = new ForwardPass(model.dense(), rows, parallel);
        batch = new MicroBatch(rows);
        SplittableRandom random = new SplittableRandom(7);
        float[] entry = RandomWeights.floats(random, c.kvLoraRank() + c.qkRopeHeadDim());
        for (int t = 0; t < rows; t++) {
            KvCache cache = (KvCache) model.newCache(CACHED_POSITIONS + 1);
            for (int p = 0; p < CACHED_POSITIONS; p++) {
                cache.write(0, p, entry, 0, c.kvLoraRank());
            }
            cache.setLength(CACHED_POSITIONS);
            batch.add(random.nextInt(c.vocabSize()), CACHED_POSITIONS, cache, false);
        }
        countWork(c);
    }

    /** bench-medium's attention in a model of one dense layer with a small vocabulary and MLP. */
    private static ObjectNode benchMediumAttentionLayer() {
        ObjectNode config = SyntheticModel.preset("deepseek_v3", "small");
        config.put("vocab_size", 256);
        config.put("hidden_size", 1024);
        config.put("intermediate_size", 64);
        config.put("num_hidden_layers", 1);
        config.put("first_k_dense_replace", 1);
        config.put("num_attention_heads", 16);
        config.put("num_key_value_heads", 16);
        config.put("q_lora_rank", 384);
        config.put("kv_lora_rank", 256);
        config.put("qk_nope_head_dim", 64);
        config.put("qk_rope_head_dim", 32);
        config.put("v_head_dim", 64);
        return config;
    }

    /** Per call: projections and attention over {@code CACHED_POSITIONS + 1} positions, for every row. */
    private void countWork(ModelConfig c) {
        long hidden = c.hiddenSize();
        long heads = c.numHeads();
        long rank = c.kvLoraRank();
        long bf16Projections = hidden * c.qLoraRank()
                + (long) c.qLoraRank() * heads * c.qkHeadDim()
                + hidden * (rank + c.qkRopeHeadDim())
                + heads * c.vHeadDim() * hidden;
        // kv_b_proj, held as float32 W_UK^T and W_UV per head for the absorbed form.
        long absorbed = heads * rank * (c.qkNopeHeadDim() + c.vHeadDim());
        long positions = CACHED_POSITIONS + 1;
        long attended = heads * positions * (2 * rank + c.qkRopeHeadDim());
        flopsPerCall = 2 * rows * (bf16Projections + absorbed + attended);
        // The weights once, as the engine holds them, and each row's cache: scores read the blocked keys (latent
        // and rope key), the weighted sum the row-major latents.
        bytesPerCall = 2 * bf16Projections + 4 * absorbed + rows * positions * 4 * (2 * rank + c.qkRopeHeadDim());
    }

    @TearDown
    public void tearDown() throws IOException {
        parallel.close();
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        }
    }

    @Benchmark
    public ForwardPass attention(Work work) {
        pass.begin(batch);
        pass.attention();
        work.add(flopsPerCall, bytesPerCall);
        return pass;
    }
}
