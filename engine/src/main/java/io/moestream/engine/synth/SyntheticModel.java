package io.moestream.engine.synth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.checkpoint.DType;
import io.moestream.engine.checkpoint.SafetensorsWriter;
import io.moestream.engine.checkpoint.SafetensorsWriter.Tensor;
import io.moestream.engine.config.ModelConfig;
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
     * @param architecture {@code deepseek_v3} or {@code deepseek_v2}
     * @param size {@code tiny} (hidden 64, 3 layers, 8 experts: loads and runs in milliseconds) or {@code small}
     *     (hidden 256, 4 layers, 16 experts: tens of millions of parameters)
     */
    public static ObjectNode preset(String architecture, String size) {
        return Presets.config(architecture, size);
    }

    /** {@link #write(JsonNode, long, Path, boolean, long)} with {@link #DEFAULT_MAX_SHARD_BYTES}. */
    public static void write(JsonNode config, long seed, Path outDir, boolean withTokenizer) throws IOException {
        write(config, seed, outDir, withTokenizer, DEFAULT_MAX_SHARD_BYTES);
    }

    /**
     * Writes a model directory for {@code config}: a preset or any DeepSeek-V2/V3 {@code config.json}, whose content
     * is written back as is. Weights are BF16, {@code e_score_correction_bias} F32; with an FP8
     * {@code quantization_config} the linear layers DeepSeek quantises are FP8 E4M3 with {@code weight_scale_inv} block
     * scales. The same config and seed give the same bytes on every machine.
     *
     * @param withTokenizer whether to add DeepSeek-V3's {@code tokenizer.json} and {@code tokenizer_config.json}
     * @param maxShardBytes weights above this size are split into shards with an index
     */
    public static void write(JsonNode config, long seed, Path outDir, boolean withTokenizer, long maxShardBytes)
            throws IOException {
        ModelConfig model = ModelConfig.parse(config);
        int mtpLayers = config.path("num_nextn_predict_layers").asInt(0);
        if (mtpLayers != 0) {
            throw new IllegalArgumentException("num_nextn_predict_layers=" + mtpLayers
                    + ": synthetic models have no multi-token-prediction layers; set it to 0");
        }
        Files.createDirectories(outDir);
        SafetensorsWriter.writeJson(outDir.resolve("config.json"), config);
        SafetensorsWriter.writeJson(outDir.resolve("generation_config.json"), generationConfig(model));
        SafetensorsWriter.writeSharded(outDir, tensors(model, seed), maxShardBytes);
        if (withTokenizer) {
            BundledTokenizers.copyDeepSeekV3To(outDir);
        }
    }

    private static List<Tensor> tensors(ModelConfig model, long seed) {
        int[] fp8Block = model.fp8BlockSize();
        Fp8BlockQuantizer quantizer =
                fp8Block == null ? null : new Fp8BlockQuantizer(fp8Block[0], fp8Block[1], model.isV4());
        List<Tensor> tensors = new ArrayList<>();
        List<SyntheticWeight> layout = model.isV4() ? DeepSeekV4Layout.of(model) : DeepSeekLayout.of(model);
        for (SyntheticWeight weight : layout) {
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
