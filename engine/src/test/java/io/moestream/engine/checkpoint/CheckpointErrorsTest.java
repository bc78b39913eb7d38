package io.moestream.engine.checkpoint;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.model.Model;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A broken checkpoint fails to load with a message naming the tensor and the file, never silently. */
class CheckpointErrorsTest {
    @TempDir
    Path temp;

    private Path copyOf(String fixture) throws IOException, URISyntaxException {
        Path source = Path.of(getClass().getResource("/fixtures/" + fixture).toURI());
        Path target = temp.resolve(fixture);
        Files.createDirectories(target);
        try (Stream<Path> files = Files.list(source)) {
            for (Path file : files.toList()) {
                Files.copy(file, target.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return target;
    }

    private static String failure(Path dir) {
        Exception e = assertThrows(Exception.class, () -> Model.load(dir));
        return e.getMessage();
    }

    @Test
    void quantisedV4WeightsWithoutTheirScalesAreNamed() throws Exception {
        Path dir = temp.resolve("v4");
        Files.createDirectories(dir);
        SafetensorsWriter.write(
                dir.resolve("model.safetensors"),
                java.util.List.of(
                        new SafetensorsWriter.Tensor(
                                "expert.weight", DType.I8, new long[] {2, 16}, () -> new float[32]),
                        new SafetensorsWriter.Tensor(
                                "wq.weight", DType.F8_E4M3, new long[] {2, 4}, () -> new float[8])));
        Checkpoint checkpoint = Checkpoint.open(dir, new int[] {128, 128});
        Exception fp4 = assertThrows(CheckpointException.class, () -> checkpoint.linear("expert.weight", 2, 32));
        assertTrue(fp4.getMessage().contains("FP4") && fp4.getMessage().contains("'expert.scale'"), fp4.getMessage());
        Exception fp8 = assertThrows(CheckpointException.class, () -> checkpoint.linear("wq.weight", 2, 4));
        assertTrue(fp8.getMessage().contains("has no block scales"), fp8.getMessage());
    }

    @Test
    void truncatedFileNamesTensorAndFile() throws Exception {
        Path dir = copyOf("v3_plain_noqlora_f16_tied");
        Path weights = dir.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        Files.write(weights, java.util.Arrays.copyOf(bytes, bytes.length - 1000));
        String message = failure(dir);
        assertTrue(message.contains("model.safetensors") && message.contains("truncated"), message);
        assertTrue(message.contains("tensor '"), message);
    }

    @Test
    void missingShardIsReported() throws Exception {
        Path dir = copyOf("v3_yarn_qlora_bf16_sharded");
        Files.delete(dir.resolve("model-00002-of-00003.safetensors"));
        String message = failure(dir);
        assertTrue(message.contains("model-00002-of-00003.safetensors") && message.contains("missing"), message);
    }

    @Test
    void missingTensorIsNamed() throws Exception {
        Path dir = copyOf("v3_plain_noqlora_f16_tied");
        // A config that asks for query compression, which this checkpoint does not have.
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"q_lora_rank\": null", "\"q_lora_rank\": 16"));
        String message = failure(dir);
        assertTrue(message.contains("missing tensor 'model.layers.0.self_attn.q_a_proj.weight'"), message);
    }

    @Test
    void shapeMismatchIsNamed() throws Exception {
        Path dir = copyOf("v3_plain_noqlora_f16_tied");
        Path config = dir.resolve("config.json");
        String text = Files.readString(config);
        Files.writeString(
                config, text.replaceFirst("\"moe_intermediate_size\": (\\d+)", "\"moe_intermediate_size\": 7"));
        String message = failure(dir);
        // The shared experts (2 here) are the first tensors sized by moe_intermediate_size.
        assertTrue(
                message.contains("shared_experts.gate_proj.weight")
                        && message.contains("has shape [96, 96], expected [14, 96]"),
                message);
    }

    @Test
    void unknownTensorsAreRefused() throws Exception {
        Path dir = copyOf("v3_plain_noqlora_f16_tied");
        Path config = dir.resolve("config.json");
        String text = Files.readString(config);
        // A V3 checkpoint read as V2: the routers' correction biases are tensors V2 does not have.
        Files.writeString(config, text.replace("\"deepseek_v3\"", "\"deepseek_v2\""));
        String message = failure(dir);
        assertTrue(message.contains("unknown tensor(s)") && message.contains("e_score_correction_bias"), message);
    }

    @Test
    void unknownArchitectureIsNamed() throws Exception {
        Path dir = copyOf("v3_plain_noqlora_f16_tied");
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"deepseek_v3\"", "\"llama\""));
        String message = failure(dir);
        assertTrue(message.contains("unknown architecture: model_type 'llama'"), message);
    }

    @Test
    void missingDirectoryIsNamed() {
        String message = failure(temp.resolve("nowhere"));
        assertTrue(message.contains("nowhere"), message);
    }

    @Test
    void notSafetensorsIsReported() throws Exception {
        Path dir = copyOf("v3_plain_noqlora_f16_tied");
        Files.writeString(dir.resolve("model.safetensors"), "this is not a checkpoint");
        String message = failure(dir);
        assertTrue(message.contains("model.safetensors"), message);
    }
}
