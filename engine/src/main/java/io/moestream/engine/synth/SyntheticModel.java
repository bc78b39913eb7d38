package io.moestream.engine.synth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.checkpoint.DType;
import io.moestream.engine.checkpoint.SafetensorsWriter;
import io.moestream.engine.checkpoint.SafetensorsWriter.Tensor;
import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.tensor.Fp4Linear;
import io.moestream.engine.tensor.NumberFormats;
import io.moestream.engine.tokenizer.BundledTokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Deterministic synthetic DeepSeek models: a Hugging Face model directory ({@code config.json},
 * {@code generation_config.json}, safetensors weights, optionally DeepSeek-V3's tokenizer) whose tensors have every
 * name and shape of the published checkpoints and random values that depend only on the seed. They serve the demo,
 * the tests and the benchmarks, where real weights are too large and their values do not matter.
 */
public final class SyntheticModel {
    /**
     * Hugging Face's own default is 50 GB; 1 GB makes the larger benchmark models multi-file, as published models
     * are, so that path is exercised.
     */
    public static final long DEFAULT_MAX_SHARD_BYTES = 1_000_000_000L;

    private SyntheticModel() {}

    /**
     * The {@code config.json} of a preset.
     *
     * @param architecture {@code deepseek_v3}, {@code deepseek_v2} or {@code deepseek_v4}
     * @param size {@code tiny} (hidden 64, a few layers, 8 experts: loads and runs in milliseconds) or {@code small}
     *     (tens to hundreds of millions of parameters; see {@code Presets})
     */
    public static ObjectNode preset(String architecture, String size) {
        return Presets.config(architecture, size);
    }

    /** {@link #write(JsonNode, long, Path, boolean, long, boolean)} with {@link #DEFAULT_MAX_SHARD_BYTES}, BF16 experts. */
    public static void write(JsonNode config, long seed, Path outDir, boolean withTokenizer) throws IOException {
        write(config, seed, outDir, withTokenizer, DEFAULT_MAX_SHARD_BYTES, false);
    }

    /** {@link #write(JsonNode, long, Path, boolean, long, boolean)} with BF16 experts. */
    public static void write(JsonNode config, long seed, Path outDir, boolean withTokenizer, long maxShardBytes)
            throws IOException {
        write(config, seed, outDir, withTokenizer, maxShardBytes, false);
    }

    /**
     * Writes a model directory for {@code config}: a preset or any DeepSeek-V2/V3/V4 {@code config.json}, whose
     * content is written back as is. Weights are BF16, with F32 where the family publishes it (V3's correction bias;
     * V4's norms, hyper-connections, sinks, position biases); with an FP8 {@code quantization_config} the linear
     * layers DeepSeek quantises are FP8 E4M3 with block scales (V3: float32 {@code weight_scale_inv}; V4: E8M0 {@code
     * .scale}, powers of two). The same config and seed give the same bytes on every machine.
     *
     * @param withTokenizer whether to add DeepSeek-V3's {@code tokenizer.json} and {@code tokenizer_config.json}
     * @param maxShardBytes weights above this size are split into shards with an index
     * @param fp4Experts V4 only: routed experts in DeepSeek-V4's released FP4 (e2m1 packed two per byte as I8, an
     *     E8M0 scale per 32 inputs of a row), as its release ships them
     */
    public static void write(
            JsonNode config, long seed, Path outDir, boolean withTokenizer, long maxShardBytes, boolean fp4Experts)
            throws IOException {
        ModelConfig model = ModelConfig.parse(config);
        if (fp4Experts && !model.isV4()) {
            throw new IllegalArgumentException(
                    "FP4 experts are DeepSeek-V4's format; " + model.family().modelType() + " publishes none");
        }
        int mtpLayers = config.path("num_nextn_predict_layers").asInt(0);
        if (mtpLayers != 0) {
            throw new IllegalArgumentException("num_nextn_predict_layers=" + mtpLayers
                    + ": synthetic models have no multi-token-prediction layers; set it to 0");
        }
        Files.createDirectories(outDir);
        SafetensorsWriter.writeJson(outDir.resolve("config.json"), config);
        SafetensorsWriter.writeJson(outDir.resolve("generation_config.json"), generationConfig(model));
        SafetensorsWriter.writeSharded(outDir, tensors(model, seed, fp4Experts), maxShardBytes);
        if (withTokenizer) {
            BundledTokenizers.copyDeepSeekV3To(outDir);
        }
    }

    private static List<Tensor> tensors(ModelConfig model, long seed, boolean fp4Experts) {
        int[] fp8Block = model.fp8BlockSize();
        Fp8BlockQuantizer quantizer =
                fp8Block == null ? null : new Fp8BlockQuantizer(fp8Block[0], fp8Block[1], model.isV4());
        List<Tensor> tensors = new ArrayList<>();
        List<SyntheticWeight> layout = model.isV4() ? DeepSeekV4Layout.of(model) : DeepSeekLayout.of(model);
        for (SyntheticWeight weight : layout) {
            if (fp4Experts && weight.kind() == SyntheticWeight.Kind.EXPERT) {
                tensors.addAll(fp4(weight, seed));
                continue;
            }
            boolean quantized =
                    weight.kind() == SyntheticWeight.Kind.PROJECTION || weight.kind() == SyntheticWeight.Kind.EXPERT;
            if (quantizer == null || !quantized) {
                tensors.add(new Tensor(weight.name(), weight.dtype(), weight.shape(), () -> weight.values(seed)));
                continue;
            }
            // The weight is generated once for its values and once for its scales: cheaper than holding it.
            int rows = Math.toIntExact(weight.shape()[0]);
            int cols = Math.toIntExact(weight.shape()[1]);
            tensors.add(new Tensor(
                    weight.name(),
                    DType.F8_E4M3,
                    weight.shape(),
                    () -> quantizer.scaled(weight.values(seed), rows, cols)));
            tensors.add(new Tensor(
                    model.isV4() ? scaleName(weight.name()) : weight.name() + "_scale_inv",
                    model.isV4() ? DType.F8_E8M0 : DType.F32,
                    quantizer.scaleShape(rows, cols),
                    () -> quantizer.scaleInverses(weight.values(seed), rows, cols)));
        }
        return tensors;
    }

    /** A routed expert's weight quantised to FP4 (each of its two tensors quantises it again: cheaper than holding it). */
    private static List<Tensor> fp4(SyntheticWeight weight, long seed) {
        int rows = Math.toIntExact(weight.shape()[0]);
        int cols = Math.toIntExact(weight.shape()[1]);
        return List.of(
                new Tensor(weight.name(), DType.I8, new long[] {rows, cols / 2}, () -> {
                    byte[] packed =
                            Fp4Linear.quantize(weight.values(seed), rows, cols).packedBytes();
                    float[] values = new float[packed.length];
                    for (int i = 0; i < packed.length; i++) {
                        values[i] = packed[i];
                    }
                    return values;
                }),
                new Tensor(scaleName(weight.name()), DType.F8_E8M0, new long[] {rows, cols / Fp4Linear.BLOCK}, () -> {
                    byte[] scales =
                            Fp4Linear.quantize(weight.values(seed), rows, cols).scaleBytes();
                    float[] values = new float[scales.length];
                    for (int i = 0; i < scales.length; i++) {
                        values[i] = NumberFormats.e8m0ToFloat(scales[i]);
                    }
                    return values;
                }));
    }

    /** DeepSeek-V4 names a weight's scales {@code <prefix>.scale} for {@code <prefix>.weight}. */
    private static String scaleName(String weightName) {
        return weightName.substring(0, weightName.length() - ".weight".length()) + ".scale";
    }

    private static ObjectNode generationConfig(ModelConfig model) {
        ObjectNode generation = JsonNodeFactory.instance.objectNode();
        generation.put("_from_model_config", true);
        generation.put("bos_token_id", model.bosTokenId());
        if (model.eosTokenIds().size() == 1) {
            generation.put("eos_token_id", model.eosTokenIds().get(0));
        } else {
            model.eosTokenIds().forEach(generation.putArray("eos_token_id")::add);
        }
        return generation;
    }
}
