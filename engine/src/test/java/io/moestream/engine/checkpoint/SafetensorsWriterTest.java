package io.moestream.engine.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.checkpoint.SafetensorsWriter.Tensor;
import io.moestream.engine.tensor.NumberFormats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void roundTripsValuesShapesAndDtypes() throws IOException {
        float[] f32 = {1.5f, -2.25f, 3.0e-8f, Float.MAX_VALUE, -0f, 7f};
        float[] bf16 = {1f / 3, -1000.1f, 0.5f, 1e-20f};
        float[] f16 = {0.5f, -65504f, 0x1p-24f, 1f / 3, 2049f, 100f};
        float[] fp8 = {448f, -0.015625f, 0x1p-9f, 1.125f};
        Path file = dir.resolve("t.safetensors");
        SafetensorsWriter.write(
                file,
                List.of(
                        tensor("a.f32", DType.F32, f32, 2, 3),
                        tensor("b.bf16", DType.BF16, bf16, 4),
                        tensor("c.f16", DType.F16, f16, 3, 1, 2),
                        tensor("d.fp8", DType.F8_E4M3, fp8, 2, 2)));

        Map<String, TensorInfo> header = SafetensorsFile.readHeader(file);
        assertEquals(DType.F32, header.get("a.f32").dtype());
        assertArrayEquals(new long[] {3, 1, 2}, header.get("c.f16").shape());
        Checkpoint checkpoint = Checkpoint.open(dir, null);
        assertArrayEquals(f32, checkpoint.readFloats("a.f32", 2, 3));
        float[] bf16Expected = new float[bf16.length];
        for (int i = 0; i < bf16.length; i++) {
            bf16Expected[i] = NumberFormats.bf16ToFloat(NumberFormats.floatToBf16(bf16[i]));
        }
        assertArrayEquals(bf16Expected, checkpoint.readFloats("b.bf16", 4));
        // 1/3 rounds to the nearest half; 2049 is a tie between 2048 and 2050 and goes to the even 2048.
        assertArrayEquals(
                new float[] {0.5f, -65504f, 0x1p-24f, 0x1.554p-2f, 2048f, 100f},
                checkpoint.readFloats("c.f16", 3, 1, 2));
        ByteBuffer fp8Bytes = SafetensorsFile.map(header.get("d.fp8"));
        for (int i = 0; i < fp8.length; i++) {
            assertEquals(fp8[i], NumberFormats.e4m3ToFloat(fp8Bytes.get(i)));
        }
    }

    @Test
    void writesTheHeaderAsThePythonLibraryDoes() throws IOException {
        Path file = dir.resolve("t.safetensors");
        SafetensorsWriter.write(
                file,
                List.of(
                        tensor("z", DType.BF16, new float[] {1, 2, 3}, 3),
                        tensor("b", DType.F8_E4M3, new float[] {1}, 1),
                        tensor("a", DType.BF16, new float[] {1}, 1),
                        tensor("y", DType.F32, new float[] {1, 2}, 1, 2)));

        byte[] bytes = Files.readAllBytes(file);
        long headerLength =
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
        // Widest dtype first, then by name; padded with spaces so the data starts at a multiple of 8.
        assertEquals(
                "{\"__metadata__\":{\"format\":\"pt\"},"
                        + "\"y\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]},"
                        + "\"a\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[8,10]},"
                        + "\"z\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[10,16]},"
                        + "\"b\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[16,17]}}",
                header.stripTrailing());
        assertEquals(0, headerLength % 8);
        assertEquals(8 + headerLength + 17, bytes.length);
    }

    @Test
    void shardsLikeSavePretrainedWithAnIndex() throws IOException {
        List<Tensor> tensors = new ArrayList<>();
        tensors.add(tensor("model.embed_tokens.weight", DType.BF16, ramp(64), 16, 4)); // 128 bytes
        for (int layer = 0; layer < 3; layer++) {
            tensors.add(tensor("model.layers." + layer + ".w", DType.BF16, ramp(20), 20)); // 40 bytes
        }
        tensors.add(tensor("model.norm.bias", DType.F32, ramp(4), 4)); // 16 bytes
        List<Path> files = SafetensorsWriter.writeSharded(dir, tensors, 100);

        // The embedding exceeds 100 bytes: a shard of its own; then layers 0-1, then layer 2 and the bias.
        assertEquals(
                List.of(
                        "model-00001-of-00003.safetensors",
                        "model-00002-of-00003.safetensors",
                        "model-00003-of-00003.safetensors"),
                files.stream().map(f -> f.getFileName().toString()).toList());
        JsonNode index =
                JSON.readTree(dir.resolve("model.safetensors.index.json").toFile());
        assertEquals(128 + 3 * 40 + 16, index.at("/metadata/total_size").asLong());
        assertEquals(
                "model-00002-of-00003.safetensors",
                index.at("/weight_map/model.layers.1.w").asText());
        assertEquals(
                "model-00003-of-00003.safetensors",
                index.at("/weight_map/model.layers.2.w").asText());
        Checkpoint checkpoint = Checkpoint.open(dir, null);
        assertEquals(5, checkpoint.names().size());
        assertArrayEquals(ramp(64), checkpoint.readFloats("model.embed_tokens.weight", 16, 4));
        assertArrayEquals(ramp(4), checkpoint.readFloats("model.norm.bias", 4));
    }

    @Test
    void aSingleShardReplacesAnEarlierShardedSave() throws IOException {
        List<Tensor> tensors = List.of(tensor("a", DType.BF16, ramp(64), 64), tensor("b", DType.BF16, ramp(64), 64));
        SafetensorsWriter.writeSharded(dir, tensors, 128);
        assertTrue(Files.exists(dir.resolve("model-00002-of-00002.safetensors")));

        assertEquals(List.of(dir.resolve("model.safetensors")), SafetensorsWriter.writeSharded(dir, tensors, 1 << 20));
        assertFalse(Files.exists(dir.resolve("model.safetensors.index.json")));
        assertFalse(Files.exists(dir.resolve("model-00001-of-00002.safetensors")));
        assertEquals(2, Checkpoint.open(dir, null).names().size());
    }

    @Test
    void writesJsonAsPythonsJsonDumps() throws IOException {
        JsonNode json = JSON.readTree("{\"vocab_size\": 129280, \"rms_norm_eps\": 1e-6, \"rope_theta\": 10000.0,"
                + " \"mscale\": 0.707, \"tiny\": 1.5e-7, \"huge\": 1e16, \"q_lora_rank\": null, \"empty\": [],"
                + " \"architectures\": [\"DeepseekV3ForCausalLM\"], \"name\": \"caf\\u00e9 \\\"x\\\"\\n\","
                + " \"_from_model_config\": true, \"nested\": {\"b\": -2.5, \"a\": {}}}");
        Path file = dir.resolve("config.json");
        SafetensorsWriter.writeJson(file, json);
        assertEquals("""
                {
                  "_from_model_config": true,
                  "architectures": [
                    "DeepseekV3ForCausalLM"
                  ],
                  "empty": [],
                  "huge": 1e+16,
                  "mscale": 0.707,
                  "name": "caf\\u00e9 \\"x\\"\\n",
                  "nested": {
                    "a": {},
                    "b": -2.5
                  },
                  "q_lora_rank": null,
                  "rms_norm_eps": 1e-06,
                  "rope_theta": 10000.0,
                  "tiny": 1.5e-07,
                  "vocab_size": 129280
                }
                """, Files.readString(file));
    }

    @Test
    void f16AndE4m3EncodersInvertTheDecoders() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float value = NumberFormats.f16ToFloat((short) bits);
            if (!Float.isNaN(value)) {
                assertEquals((short) bits, SafetensorsWriter.floatToF16(value), "half 0x" + Integer.toHexString(bits));
            }
        }
        for (int bits = 0; bits < 0x100; bits++) {
            float value = NumberFormats.e4m3ToFloat((byte) bits);
            if (!Float.isNaN(value)) {
                assertEquals((byte) bits, SafetensorsWriter.floatToE4m3(value), "e4m3 0x" + Integer.toHexString(bits));
            }
        }
    }

    @Test
    void encodersRoundToNearestEvenAndSaturateE4m3() {
        assertEquals(0x38, SafetensorsWriter.floatToE4m3(1.0625f)); // tie between 1.0 and 1.125: even is 1.0
        assertEquals(0x3A, SafetensorsWriter.floatToE4m3(1.1875f)); // tie between 1.125 and 1.25: even is 1.25
        assertEquals(0x00, SafetensorsWriter.floatToE4m3(0x1p-10f)); // half the smallest subnormal
        assertEquals(0x02, SafetensorsWriter.floatToE4m3(0x3p-10f));
        assertEquals(0x08, SafetensorsWriter.floatToE4m3(0x0.F8p-6f)); // rounds up into the smallest normal
        assertEquals(0x7E, SafetensorsWriter.floatToE4m3(464f)); // tie between 448 and 480: even, and in range
        assertEquals(0x7E, SafetensorsWriter.floatToE4m3(1e6f));
        assertEquals((byte) 0xFE, SafetensorsWriter.floatToE4m3(Float.NEGATIVE_INFINITY));
        assertEquals(0x7F, SafetensorsWriter.floatToE4m3(Float.NaN));
        assertEquals(0x7BFF, SafetensorsWriter.floatToF16(65519f));
        assertEquals(0x7C00, SafetensorsWriter.floatToF16(65520f)); // rounds to infinity as IEEE does
        assertEquals((short) 0xFC00, SafetensorsWriter.floatToF16(Float.NEGATIVE_INFINITY));
        assertEquals(0x0000, SafetensorsWriter.floatToF16(0x1p-25f));
        assertEquals(0x0002, SafetensorsWriter.floatToF16(0x3p-25f));
    }

    /** The exact forms DeepSeek-V4 needs: integer tables, packed FP4 bytes and E8M0 powers of two. */
    @Test
    void writesIntegersAndExponentsExactly() throws IOException {
        SafetensorsWriter.write(
                dir.resolve("model.safetensors"),
                List.of(
                        tensor("table", DType.I32, new float[] {0, 7, -3, 255}, 2, 2),
                        tensor("packed", DType.I8, new float[] {-128, 127, 0}, 3),
                        tensor("scale", DType.F8_E8M0, new float[] {1f, 0.5f, 0x1p-127f, 0x1p127f}, 4)));
        Checkpoint checkpoint = Checkpoint.open(dir, null);
        assertArrayEquals(new int[] {0, 7, -3, 255}, checkpoint.readInts("table", 2, 2));
        assertArrayEquals(new int[] {-128, 127, 0}, checkpoint.readInts("packed", 3));
        assertArrayEquals(new float[] {1f, 0.5f, 0x1p-127f, 0x1p127f}, checkpoint.readFloats("scale", 4));
        Path other = dir.resolve("other.safetensors");
        assertThrows(
                IllegalArgumentException.class,
                () -> SafetensorsWriter.write(other, List.of(tensor("x", DType.I8, new float[] {0.5f}, 1))));
        assertThrows(
                IllegalArgumentException.class,
                () -> SafetensorsWriter.write(other, List.of(tensor("x", DType.I8, new float[] {128}, 1))));
        assertThrows(
                IllegalArgumentException.class,
                () -> SafetensorsWriter.write(other, List.of(tensor("x", DType.F8_E8M0, new float[] {3f}, 1))));
    }

    @Test
    void refusesInconsistentInput() {
        Path file = dir.resolve("t.safetensors");
        assertThrows(IllegalArgumentException.class, () -> tensor("a", DType.I64, new float[1], 1));
        assertThrows(
                IllegalArgumentException.class,
                () -> SafetensorsWriter.write(
                        file,
                        List.of(tensor("a", DType.F32, new float[1], 1), tensor("a", DType.F32, new float[1], 1))));
        IllegalStateException wrongCount = assertThrows(
                IllegalStateException.class,
                () -> SafetensorsWriter.write(file, List.of(tensor("a", DType.F32, new float[5], 2, 3))));
        assertTrue(wrongCount.getMessage().contains("'a'"), wrongCount.getMessage());
    }

    private static Tensor tensor(String name, DType dtype, float[] values, long... shape) {
        return new Tensor(name, dtype, shape, () -> values);
    }

    /** Values exact in BF16. */
    private static float[] ramp(int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = i - n / 2f;
        }
        return values;
    }
}
