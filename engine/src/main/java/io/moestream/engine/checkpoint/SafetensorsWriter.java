package io.moestream.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.tensor.NumberFormats;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Writes safetensors files byte for byte as the Python {@code safetensors} library does: a compact JSON header with
 * {@code __metadata__} first and the tensors ordered by dtype width (widest first, which keeps every tensor aligned
 * to its element size) then by name, padded with spaces to a multiple of 8 bytes, then the data in header order.
 * Each tensor's values are produced only when its turn comes, so files larger than memory can be written; sharded
 * sets follow Hugging Face's naming and {@code model.safetensors.index.json}.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SINGLE_FILE = "model.safetensors";
    private static final String INDEX_FILE = "model.safetensors.index.json";
    private static final Pattern SHARD_FILE = Pattern.compile("model-\\d{5,}-of-\\d{5,}\\.safetensors");
    private static final int CHUNK_BYTES = 4 << 20;

    private SafetensorsWriter() {}

    /**
     * One tensor to write.
     *
     * @param dtype F32, BF16, F16 or F8_E4M3, to which the float values are rounded to nearest, ties to even; or an
     *     exact form: I32 and I8 (integer values), F8_E8M0 (powers of two, stored as their biased exponent)
     * @param values called once, when the tensor is written; returns its elements in row-major order
     */
    public record Tensor(String name, DType dtype, long[] shape, Supplier<float[]> values) {
        public Tensor {
            if (dtypeRank(dtype) < 0) {
                throw new IllegalArgumentException("tensor '" + name + "': cannot write dtype " + dtype
                        + " (supported: F32, BF16, F16, F8_E4M3, F8_E8M0, I32, I8)");
            }
            shape = shape.clone();
            for (long dim : shape) {
                if (dim < 0) {
                    throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension");
                }
            }
        }

        public long elementCount() {
            long n = 1;
            for (long dim : shape) {
                n *= dim;
            }
            return n;
        }

        public long byteLength() {
            return elementCount() * dtype.byteSize();
        }
    }

    /** Writes one safetensors file. */
    public static void write(Path file, List<Tensor> tensors) throws IOException {
        requireUniqueNames(tensors);
        List<Tensor> ordered = new ArrayList<>(tensors);
        // safetensors' own order: widest dtype first, then by name.
        ordered.sort(
                Comparator.comparingInt((Tensor t) -> -dtypeRank(t.dtype())).thenComparing(Tensor::name));
        byte[] header = header(ordered);
        try (FileChannel channel = FileChannel.open(
                file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer prefix = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
            flush(channel, prefix.putLong(header.length).put(header));
            ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            for (Tensor tensor : ordered) {
                float[] values = tensor.values().get();
                if (values.length != tensor.elementCount()) {
                    throw new IllegalStateException("tensor '" + tensor.name() + "' of shape "
                            + Arrays.toString(tensor.shape()) + " was given " + values.length + " values");
                }
                writeValues(channel, buffer, tensor.dtype(), values);
            }
            flush(channel, buffer);
        }
    }

    /**
     * Writes {@code tensors} into {@code directory} as Hugging Face's {@code save_pretrained} does: taken in list
     * order, a shard is closed when the next tensor would take it over {@code maxShardBytes} (a larger tensor gets a
     * shard of its own); a single shard is {@code model.safetensors}, several are
     * {@code model-00001-of-00003.safetensors}... with {@code model.safetensors.index.json}. Weight files of an
     * earlier save in the directory are removed first, so an old index cannot outlive its shards.
     *
     * @return the files written, in shard order
     */
    public static List<Path> writeSharded(Path directory, List<Tensor> tensors, long maxShardBytes) throws IOException {
        requireUniqueNames(tensors);
        List<List<Tensor>> shards = splitIntoShards(tensors, maxShardBytes);
        Files.createDirectories(directory);
        deletePreviousWeights(directory);
        if (shards.size() == 1) {
            Path file = directory.resolve(SINGLE_FILE);
            write(file, shards.get(0));
            return List.of(file);
        }
        List<Path> files = new ArrayList<>();
        Map<String, String> weightMap = new TreeMap<>();
        long totalBytes = 0;
        for (int i = 0; i < shards.size(); i++) {
            String fileName = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            Path file = directory.resolve(fileName);
            write(file, shards.get(i));
            files.add(file);
            for (Tensor tensor : shards.get(i)) {
                weightMap.put(tensor.name(), fileName);
                totalBytes += tensor.byteLength();
            }
        }
        ObjectNode index = JSON.createObjectNode();
        index.putObject("metadata").put("total_size", totalBytes);
        ObjectNode map = index.putObject("weight_map");
        weightMap.forEach(map::put);
        writeJson(directory.resolve(INDEX_FILE), index);
        return files;
    }

    /**
     * Writes a JSON file as Hugging Face's tools write {@code config.json}, {@code generation_config.json} and the
     * shard index: Python's {@code json.dumps(obj, indent=2, sort_keys=True)} plus a newline, floats in Python's
     * {@code repr} (so {@code 1e-06}, {@code 10000.0}).
     */
    public static void writeJson(Path file, JsonNode json) throws IOException {
        StringBuilder out = new StringBuilder();
        appendPythonJson(out, json, "");
        out.append('\n');
        Files.writeString(file, out, StandardCharsets.US_ASCII);
    }

    /** Rounds to the nearest IEEE half, ties to even; overflow becomes infinity. */
    public static short floatToF16(float value) {
        int sign = (Float.floatToRawIntBits(value) >>> 16) & 0x8000;
        if (Float.isNaN(value)) {
            return (short) (sign | 0x7E00);
        }
        return (short) (sign | Math.min(roundToMinifloat(Math.abs(value), 10, -14), 0x7C00));
    }

    /**
     * Rounds to the nearest FP8 E4M3 ("fn") value, ties to even, saturating at ±448 (the format has no infinity;
     * S.1111.111 is its NaN).
     */
    public static byte floatToE4m3(float value) {
        int sign = (Float.floatToRawIntBits(value) >>> 24) & 0x80;
        if (Float.isNaN(value)) {
            return (byte) (sign | 0x7F);
        }
        return (byte) (sign | Math.min(roundToMinifloat(Math.abs(value), 3, -6), 0x7E));
    }

    /** A power of two as E8M0, its biased exponent; anything else is refused (the format has no mantissa). */
    public static byte floatToE8m0(float value) {
        int exponent = Math.getExponent(value);
        if (!(value > 0) || Math.scalb(1f, exponent) != value || exponent + 127 < 0 || exponent + 127 > 254) {
            throw new IllegalArgumentException(value + " is not a power of two that E8M0 holds");
        }
        return (byte) (exponent + 127);
    }

    private static int exactInteger(float value, int min, int max) {
        if (value != Math.rint(value) || value < min || value > max) {
            throw new IllegalArgumentException(value + " is not an integer in [" + min + ", " + max + "]");
        }
        return (int) value;
    }

    /**
     * The bits of a non-negative magnitude in a binary format with {@code mantissaBits} explicit mantissa bits and
     * smallest normal exponent {@code minExponent}, rounded to nearest even, not clamped. A mantissa that rounds up
     * to the next power of two carries into the exponent by plain addition.
     */
    private static int roundToMinifloat(float magnitude, int mantissaBits, int minExponent) {
        if (Float.isInfinite(magnitude)) {
            return Integer.MAX_VALUE; // the caller clamps it to its infinity or its largest value
        }
        if (magnitude < Math.scalb(1f, minExponent)) {
            return (int) Math.rint(Math.scalb((double) magnitude, mantissaBits - minExponent));
        }
        int exponent = Math.getExponent(magnitude);
        int significand = (int) Math.rint(Math.scalb((double) magnitude, mantissaBits - exponent));
        return ((exponent - minExponent + 1) << mantissaBits) + significand - (1 << mantissaBits);
    }

    private static void requireUniqueNames(List<Tensor> tensors) {
        Set<String> names = new HashSet<>();
        for (Tensor tensor : tensors) {
            if (!names.add(tensor.name())) {
                throw new IllegalArgumentException("tensor '" + tensor.name() + "' is listed twice");
            }
        }
    }

    private static int dtypeRank(DType dtype) {
        return switch (dtype) {
            // The order of safetensors' Dtype enum, which its writer sorts by.
            case I8 -> 1;
            case F8_E4M3 -> 2;
            case F8_E8M0 -> 3;
            case F16 -> 4;
            case BF16 -> 5;
            case I32 -> 6;
            case F32 -> 7;
            default -> -1;
        };
    }

    private static byte[] header(List<Tensor> ordered) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        long offset = 0;
        for (Tensor tensor : ordered) {
            ObjectNode entry = header.putObject(tensor.name());
            entry.put("dtype", tensor.dtype().headerName());
            Arrays.stream(tensor.shape()).forEach(entry.putArray("shape")::add);
            entry.putArray("data_offsets").add(offset).add(offset + tensor.byteLength());
            offset += tensor.byteLength();
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) & ~7;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    /** Encodes a chunk at a time into a plain array (a tight loop) and copies it into the buffer in bulk. */
    private static void writeValues(FileChannel channel, ByteBuffer buffer, DType dtype, float[] values)
            throws IOException {
        int width = dtype.byteSize();
        int scratchLength = Math.min(values.length, CHUNK_BYTES / width);
        short[] halves = width == 2 ? new short[scratchLength] : null;
        byte[] bytes = width == 1 ? new byte[scratchLength] : null;
        for (int start = 0; start < values.length; ) {
            if (buffer.remaining() < width) {
                flush(channel, buffer);
            }
            int count = Math.min(values.length - start, buffer.remaining() / width);
            switch (dtype) {
                case F32 -> buffer.asFloatBuffer().put(values, start, count);
                case BF16 -> {
                    for (int j = 0; j < count; j++) {
                        halves[j] = NumberFormats.floatToBf16(values[start + j]);
                    }
                    buffer.asShortBuffer().put(halves, 0, count);
                }
                case F16 -> {
                    for (int j = 0; j < count; j++) {
                        halves[j] = floatToF16(values[start + j]);
                    }
                    buffer.asShortBuffer().put(halves, 0, count);
                }
                case F8_E4M3, F8_E8M0, I8 -> {
                    for (int j = 0; j < count; j++) {
                        bytes[j] = switch (dtype) {
                            case F8_E4M3 -> floatToE4m3(values[start + j]);
                            case F8_E8M0 -> floatToE8m0(values[start + j]);
                            default -> (byte) exactInteger(values[start + j], Byte.MIN_VALUE, Byte.MAX_VALUE);
                        };
                    }
                    buffer.put(buffer.position(), bytes, 0, count);
                }
                case I32 -> {
                    for (int j = 0; j < count; j++) {
                        buffer.putInt(buffer.position() + 4 * j, exactInteger(values[start + j], -(1 << 24), 1 << 24));
                    }
                }
                default -> throw new AssertionError(dtype);
            }
            buffer.position(buffer.position() + count * width); // bulk copies by index or view leave it
            start += count;
        }
    }

    private static void flush(FileChannel channel, ByteBuffer buffer) throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        buffer.clear();
    }

    /** huggingface_hub's {@code split_state_dict_into_shards_factory}, without shared storage. */
    private static List<List<Tensor>> splitIntoShards(List<Tensor> tensors, long maxShardBytes) {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
        }
        List<List<Tensor>> shards = new ArrayList<>();
        List<Tensor> current = new ArrayList<>();
        long currentBytes = 0;
        for (Tensor tensor : tensors) {
            long bytes = tensor.byteLength();
            if (bytes > maxShardBytes) {
                shards.add(List.of(tensor));
                continue;
            }
            if (currentBytes + bytes > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(tensor);
            currentBytes += bytes;
        }
        if (!current.isEmpty() || shards.isEmpty()) {
            shards.add(current);
        }
        return shards;
    }

    private static void deletePreviousWeights(Path directory) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (name.equals(SINGLE_FILE)
                        || name.equals(INDEX_FILE)
                        || SHARD_FILE.matcher(name).matches()) {
                    Files.delete(file);
                }
            }
        }
    }

    private static void appendPythonJson(StringBuilder out, JsonNode node, String indent) {
        String inner = indent + "  ";
        if (node.isObject()) {
            if (node.isEmpty()) {
                out.append("{}");
                return;
            }
            Map<String, JsonNode> sorted = new TreeMap<>();
            for (Map.Entry<String, JsonNode> field : node.properties()) {
                sorted.put(field.getKey(), field.getValue());
            }
            out.append("{\n");
            String separator = "";
            for (Map.Entry<String, JsonNode> field : sorted.entrySet()) {
                out.append(separator).append(inner);
                appendPythonString(out, field.getKey());
                out.append(": ");
                appendPythonJson(out, field.getValue(), inner);
                separator = ",\n";
            }
            out.append('\n').append(indent).append('}');
        } else if (node.isArray()) {
            if (node.isEmpty()) {
                out.append("[]");
                return;
            }
            out.append("[\n");
            String separator = "";
            for (JsonNode element : node) {
                out.append(separator).append(inner);
                appendPythonJson(out, element, inner);
                separator = ",\n";
            }
            out.append('\n').append(indent).append(']');
        } else if (node.isTextual()) {
            appendPythonString(out, node.asText());
        } else if (node.isFloatingPointNumber()) {
            out.append(pythonFloatRepr(node.doubleValue()));
        } else {
            out.append(node.asText()); // integers, booleans, null
        }
    }

    /** Python's {@code json.dumps} string with {@code ensure_ascii}: non-ASCII as lower-case {@code \\uXXXX}. */
    private static void appendPythonString(StringBuilder out, String text) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || c > 0x7E) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** Python's {@code repr(float)}: shortest digits, exponent form below 1e-4 and from 1e16 on. */
    private static String pythonFloatRepr(double value) {
        if (!Double.isFinite(value)) {
            return Double.toString(value); // NaN, Infinity, -Infinity: the tokens Python's json writes
        }
        if (value == 0) {
            return 1 / value < 0 ? "-0.0" : "0.0";
        }
        BigDecimal decimal = new BigDecimal(Double.toString(value)).stripTrailingZeros();
        String digits = decimal.unscaledValue().abs().toString();
        int pointPosition = digits.length() - decimal.scale(); // value = 0.digits * 10^pointPosition
        String sign = value < 0 ? "-" : "";
        if (pointPosition > -4 && pointPosition <= 16) {
            String plain = decimal.abs().toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        int exponent = pointPosition - 1;
        return String.format("%s%se%s%02d", sign, mantissa, exponent < 0 ? "-" : "+", Math.abs(exponent));
    }
}
