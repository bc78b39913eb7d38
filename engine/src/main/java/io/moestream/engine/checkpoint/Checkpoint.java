package io.moestream.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.tensor.Bf16Linear;
import io.moestream.engine.tensor.F32Linear;
import io.moestream.engine.tensor.Fp4Linear;
import io.moestream.engine.tensor.Linear;
import io.moestream.engine.tensor.NumberFormats;
import io.moestream.engine.tensor.Q8Linear;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The tensors of a Hugging Face model directory: one {@code model.safetensors}, or shards listed by
 * {@code model.safetensors.index.json}. Tensors are memory-mapped when read and converted once into the engine's
 * compute formats (bfloat16 kept as is; float16 and FP8 block-scaled widened to float32). It remembers which tensors
 * were read, so a loader can refuse a checkpoint with tensors it does not know.
 */
public final class Checkpoint {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String INDEX = "model.safetensors.index.json";

    private final Path directory;
    private final Map<String, TensorInfo> tensors;
    private final Set<String> read = ConcurrentHashMap.newKeySet();
    private final int[] fp8Block;
    private final WeightFormat weightFormat;

    private Checkpoint(Path directory, Map<String, TensorInfo> tensors, int[] fp8Block, WeightFormat weightFormat) {
        this.directory = directory;
        this.tensors = tensors;
        this.fp8Block = fp8Block;
        this.weightFormat = weightFormat;
    }

    /**
     * Opens the safetensors files of {@code directory}.
     *
     * @param fp8Block the {@code weight_block_size} of an FP8 checkpoint, or null
     */
    public static Checkpoint open(Path directory, int[] fp8Block) throws IOException {
        return open(directory, fp8Block, WeightFormat.STORED);
    }

    /**
     * Opens the safetensors files of {@code directory}; {@link #linear} gives weights in {@code weightFormat}.
     *
     * @param fp8Block the {@code weight_block_size} of an FP8 checkpoint, or null
     */
    public static Checkpoint open(Path directory, int[] fp8Block, WeightFormat weightFormat) throws IOException {
        if (!Files.isDirectory(directory)) {
            throw new CheckpointException("model directory " + directory + " does not exist");
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Path index = directory.resolve(INDEX);
        if (Files.exists(index)) {
            JsonNode weightMap;
            try {
                weightMap = JSON.readTree(index.toFile()).path("weight_map");
            } catch (IOException e) {
                throw new CheckpointException(index + " is not valid JSON", e);
            }
            if (!weightMap.isObject()) {
                throw new CheckpointException(index + " has no 'weight_map' object");
            }
            Map<String, Map<String, TensorInfo>> shards = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> entry : weightMap.properties()) {
                String shardName = entry.getValue().asText();
                Path shard = directory.resolve(shardName);
                if (!Files.exists(shard)) {
                    throw new CheckpointException(
                            index + " maps tensor '" + entry.getKey() + "' to " + shardName + ", which is missing");
                }
                Map<String, TensorInfo> shardTensors = shards.get(shardName);
                if (shardTensors == null) {
                    shardTensors = SafetensorsFile.readHeader(shard);
                    shards.put(shardName, shardTensors);
                }
                TensorInfo info = shardTensors.get(entry.getKey());
                if (info == null) {
                    throw new CheckpointException(
                            index + " maps tensor '" + entry.getKey() + "' to " + shardName + ", which lacks it");
                }
                tensors.put(entry.getKey(), info);
            }
        } else {
            List<Path> files;
            try (Stream<Path> list = Files.list(directory)) {
                files = list.filter(p -> p.getFileName().toString().endsWith(".safetensors"))
                        .sorted()
                        .toList();
            }
            if (files.isEmpty()) {
                throw new CheckpointException("no *.safetensors files in " + directory);
            }
            for (Path file : files) {
                for (TensorInfo info : SafetensorsFile.readHeader(file).values()) {
                    TensorInfo previous = tensors.put(info.name(), info);
                    if (previous != null) {
                        throw new CheckpointException("tensor '" + info.name() + "' is in both "
                                + previous.file().getFileName() + " and " + file.getFileName());
                    }
                }
            }
        }
        return new Checkpoint(directory, tensors, fp8Block, weightFormat);
    }

    public Path directory() {
        return directory;
    }

    public Set<String> names() {
        return tensors.keySet();
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    /** The tensors not read so far, sorted. */
    public Set<String> unread() {
        Set<String> rest = new TreeSet<>(tensors.keySet());
        rest.removeAll(read);
        return rest;
    }

    /** Marks a tensor as deliberately unused (e.g. multi-token-prediction layers). */
    public void skip(String name) {
        read.add(name);
    }

    /** The tensor {@code name}, whatever its shape. */
    public TensorInfo tensor(String name) throws CheckpointException {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new CheckpointException("missing tensor '" + name + "' in " + directory);
        }
        return info;
    }

    /** The tensor {@code name}, checked to have {@code shape}. */
    public TensorInfo info(String name, long... shape) throws CheckpointException {
        TensorInfo info = tensor(name);
        if (!Arrays.equals(info.shape(), shape)) {
            throw new CheckpointException("tensor '" + name + "' in " + info.file() + " has shape " + info.shapeString()
                    + ", expected " + Arrays.toString(shape));
        }
        return info;
    }

    /** Reads an integer tensor (I64, I32, I16, I8, U8) as ints, checked to have {@code shape}; I64 must fit an int. */
    public int[] readInts(String name, long... shape) throws IOException {
        TensorInfo info = info(name, shape);
        read.add(name);
        ByteBuffer data = SafetensorsFile.map(info);
        int n = Math.toIntExact(info.elementCount());
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = switch (info.dtype()) {
                case I64 -> {
                    long value = data.getLong(8 * i);
                    if (value != (int) value) {
                        throw new CheckpointException("tensor '" + name + "' in " + info.file() + " holds " + value
                                + ", beyond the range of an int");
                    }
                    yield (int) value;
                }
                case I32 -> data.getInt(4 * i);
                case I16 -> data.getShort(2 * i);
                case I8 -> data.get(i);
                case U8 -> data.get(i) & 0xFF;
                default ->
                    throw new CheckpointException("tensor '" + name + "' in " + info.file() + " has dtype "
                            + info.dtype() + ", expected an integer type");
            };
        }
        return out;
    }

    /**
     * The quantisation scales stored with weight {@code name}, or null: {@code <name>_scale_inv} (DeepSeek-V3's FP8
     * in Hugging Face's layout) or, for {@code <prefix>.weight}, {@code <prefix>.scale} (DeepSeek-V4's FP8 and FP4).
     */
    public String scaleOf(String name) {
        if (has(name + "_scale_inv")) {
            return name + "_scale_inv";
        }
        if (name.endsWith(".weight")) {
            String scale = name.substring(0, name.length() - ".weight".length()) + ".scale";
            if (has(scale)) {
                return scale;
            }
        }
        return null;
    }

    /**
     * Checks that linear weight {@code name} holds an {@code [outFeatures, inFeatures]} matrix, in any stored form
     * (FP4 packs two weights per byte), without reading it.
     */
    public void checkLinear(String name, int outFeatures, int inFeatures) throws CheckpointException {
        TensorInfo info = tensor(name);
        if (!isPackedFp4(info, outFeatures, inFeatures)) {
            requireUnpacked(info, outFeatures, inFeatures);
            info(name, outFeatures, inFeatures);
        }
    }

    /** A packed FP4 weight whose scales are missing is named as such, not as a tensor of the wrong shape. */
    private void requireUnpacked(TensorInfo info, int outFeatures, int inFeatures) throws CheckpointException {
        if ((info.dtype() == DType.I8 || info.dtype() == DType.U8)
                && Arrays.equals(info.shape(), new long[] {outFeatures, inFeatures / 2})) {
            throw new CheckpointException("tensor '" + info.name() + "' in " + info.file() + " holds FP4 weights "
                    + "(bytes of two e2m1 values) but has no scales '"
                    + info.name().replaceAll("\\.weight$", "") + ".scale'");
        }
    }

    /**
     * Whether {@code info} is an FP4 weight as DeepSeek-V4 releases its routed experts: bytes (I8 or U8) of shape
     * {@code [out, in / 2]}, two e2m1 weights each, with a {@code .scale} companion.
     */
    private boolean isPackedFp4(TensorInfo info, int outFeatures, int inFeatures) {
        return (info.dtype() == DType.I8 || info.dtype() == DType.U8)
                && Arrays.equals(info.shape(), new long[] {outFeatures, inFeatures / 2})
                && inFeatures % 2 == 0
                && scaleOf(info.name()) != null;
    }

    /** Reads a tensor of any floating-point dtype as float32 (FP8 weights dequantised with their block scales). */
    public float[] readFloats(String name, long... shape) throws IOException {
        TensorInfo info = info(name, shape);
        read.add(name);
        ByteBuffer data = SafetensorsFile.map(info);
        int n = Math.toIntExact(info.elementCount());
        float[] out = new float[n];
        switch (info.dtype()) {
            case F32 -> data.asFloatBuffer().get(out);
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = NumberFormats.bf16ToFloat(data.getShort(2 * i));
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = NumberFormats.f16ToFloat(data.getShort(2 * i));
                }
            }
            case F8_E4M3 -> dequantizeFp8(info, data, out);
            case F8_E8M0 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = NumberFormats.e8m0ToFloat(data.get(i));
                }
            }
            default ->
                throw new CheckpointException("tensor '" + name + "' in " + info.file() + " has dtype " + info.dtype()
                        + ", expected a floating-point type");
        }
        return out;
    }

    public WeightFormat weightFormat() {
        return weightFormat;
    }

    /**
     * A linear layer's weight {@code [out, in]} in this checkpoint's {@link WeightFormat}: as stored, bfloat16 stays
     * bfloat16 and float32, float16 and FP8 become float32; in {@link WeightFormat#Q8} every format is quantised.
     */
    public Linear linear(String name, int outFeatures, int inFeatures) throws IOException {
        TensorInfo packed = tensor(name);
        if (isPackedFp4(packed, outFeatures, inFeatures)) {
            return fp4(packed, outFeatures, inFeatures);
        }
        requireUnpacked(packed, outFeatures, inFeatures);
        TensorInfo info = info(name, outFeatures, inFeatures);
        if (weightFormat == WeightFormat.Q8) {
            return Q8Linear.quantize(readFloats(name, outFeatures, inFeatures), outFeatures, inFeatures);
        }
        if (info.dtype() == DType.BF16) {
            read.add(name);
            short[] bits = new short[Math.toIntExact(info.elementCount())];
            SafetensorsFile.map(info).asShortBuffer().get(bits);
            return new Bf16Linear(bits, outFeatures, inFeatures);
        }
        return new F32Linear(readFloats(name, outFeatures, inFeatures), outFeatures, inFeatures);
    }

    /**
     * An FP4 weight as DeepSeek-V4 releases its routed experts, kept packed whatever the weight format (it is
     * already smaller than 8 bits): {@code [out, in / 2]} bytes, low nibble first, and an E8M0 scale per 32 inputs of
     * a row.
     */
    private Linear fp4(TensorInfo info, int outFeatures, int inFeatures) throws IOException {
        if (inFeatures % Fp4Linear.BLOCK != 0) {
            throw new CheckpointException("FP4 tensor '" + info.name() + "' in " + info.file() + " has " + inFeatures
                    + " inputs per row, not a multiple of " + Fp4Linear.BLOCK);
        }
        String scaleName = scaleOf(info.name());
        TensorInfo scale = info(scaleName, outFeatures, inFeatures / Fp4Linear.BLOCK);
        byte[] exponents;
        if (scale.dtype() == DType.F8_E8M0 || scale.dtype() == DType.U8) {
            exponents = bytes(scale);
        } else if (scale.dtype() == DType.F32) {
            // Some releases store the same powers of two as float32.
            float[] values = readFloats(scaleName, outFeatures, inFeatures / Fp4Linear.BLOCK);
            exponents = new byte[values.length];
            for (int i = 0; i < values.length; i++) {
                try {
                    exponents[i] = SafetensorsWriter.floatToE8m0(values[i]);
                } catch (IllegalArgumentException e) {
                    throw new CheckpointException(
                            "FP4 scales '" + scaleName + "' in " + scale.file() + ": " + e.getMessage());
                }
            }
        } else {
            throw new CheckpointException("FP4 scales '" + scaleName + "' in " + scale.file() + " have dtype "
                    + scale.dtype() + ", expected F8_E8M0 (or F32 powers of two)");
        }
        read.add(info.name());
        read.add(scaleName);
        return Fp4Linear.fromPacked(bytes(info), 0, exponents, 0, outFeatures, inFeatures);
    }

    private static byte[] bytes(TensorInfo info) throws IOException {
        byte[] out = new byte[Math.toIntExact(info.byteLength())];
        SafetensorsFile.map(info).get(0, out);
        return out;
    }

    /**
     * A linear weight {@code [outFeatures, inFeatures]} split into {@code groups} matrices of consecutive output rows,
     * each {@code [outFeatures / groups, inFeatures]} (DeepSeek-V4's grouped output projection {@code wo_a}), in this
     * checkpoint's {@link WeightFormat}.
     */
    public Linear[] linearGroups(String name, int outFeatures, int inFeatures, int groups) throws IOException {
        if (outFeatures % groups != 0) {
            throw new CheckpointException(
                    "tensor '" + name + "' has " + outFeatures + " rows, not divisible into " + groups + " groups");
        }
        TensorInfo info = info(name, outFeatures, inFeatures);
        int rows = outFeatures / groups;
        int size = rows * inFeatures;
        Linear[] out = new Linear[groups];
        if (weightFormat == WeightFormat.STORED && info.dtype() == DType.BF16) {
            read.add(name);
            short[] bits = new short[Math.toIntExact(info.elementCount())];
            SafetensorsFile.map(info).asShortBuffer().get(bits);
            for (int g = 0; g < groups; g++) {
                out[g] = new Bf16Linear(Arrays.copyOfRange(bits, g * size, (g + 1) * size), rows, inFeatures);
            }
            return out;
        }
        float[] values = readFloats(name, outFeatures, inFeatures);
        for (int g = 0; g < groups; g++) {
            float[] group = Arrays.copyOfRange(values, g * size, (g + 1) * size);
            out[g] = weightFormat == WeightFormat.Q8
                    ? Q8Linear.quantize(group, rows, inFeatures)
                    : new F32Linear(group, rows, inFeatures);
        }
        return out;
    }

    /**
     * {@code w[o][i] = fp8[o][i] * scale[o / block0][i / block1]}, in float32 as DeepSeek's dequantisation; the scales
     * are V3's float32 {@code <name>_scale_inv} or V4's E8M0 {@code <prefix>.scale} (powers of two).
     */
    private void dequantizeFp8(TensorInfo info, ByteBuffer data, float[] out) throws IOException {
        String scaleName = scaleOf(info.name());
        if (scaleName == null) {
            scaleName = info.name() + "_scale_inv";
        }
        if (fp8Block == null) {
            throw new CheckpointException("tensor '" + info.name() + "' in " + info.file()
                    + " is FP8 but config.json has no fp8 quantization_config");
        }
        if (info.shape().length != 2) {
            throw new CheckpointException(
                    "FP8 tensor '" + info.name() + "' in " + info.file() + " must be 2-D, is " + info.shapeString());
        }
        int rows = (int) info.shape()[0];
        int cols = (int) info.shape()[1];
        int blockRows = fp8Block[0];
        int blockCols = fp8Block[1];
        int scaleRows = (rows + blockRows - 1) / blockRows;
        int scaleCols = (cols + blockCols - 1) / blockCols;
        if (!has(scaleName)) {
            throw new CheckpointException(
                    "FP8 tensor '" + info.name() + "' in " + info.file() + " has no block scales '" + scaleName + "'");
        }
        float[] scales = readFloats(scaleName, scaleRows, scaleCols);
        for (int r = 0; r < rows; r++) {
            int scaleRow = (r / blockRows) * scaleCols;
            for (int c = 0; c < cols; c++) {
                out[r * cols + c] =
                        NumberFormats.e4m3ToFloat(data.get(r * cols + c)) * scales[scaleRow + c / blockCols];
            }
        }
    }

    /** Reports tensors nobody read, as a loader's last check; lists at most a few names. */
    public void requireAllRead() throws CheckpointException {
        Set<String> rest = unread();
        if (!rest.isEmpty()) {
            List<String> sample = new ArrayList<>(rest).subList(0, Math.min(5, rest.size()));
            throw new CheckpointException(rest.size() + " unknown tensor(s) in " + directory + ", e.g. " + sample
                    + " (not part of this architecture as configured in config.json)");
        }
    }
}
