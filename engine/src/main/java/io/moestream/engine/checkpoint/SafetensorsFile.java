package io.moestream.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The header of one {@code .safetensors} file: an 8-byte little-endian length, a JSON table of tensors, then their
 * data. Reading the header validates every entry against the file size, so a truncated file is reported before any
 * tensor is used.
 */
public final class SafetensorsFile {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** safetensors' own limit on the header, which also guards against reading garbage as a length. */
    private static final long MAX_HEADER_BYTES = 100L << 20;

    private SafetensorsFile() {}

    /** Reads the tensor table of {@code file}, in header order. */
    public static Map<String, TensorInfo> readHeader(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = channel.size();
            if (fileSize < 8) {
                throw new CheckpointException(file + ": not a safetensors file (only " + fileSize + " bytes)");
            }
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lengthBytes, 0);
            long headerLength = lengthBytes.flip().getLong();
            if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES || headerLength > fileSize - 8) {
                throw new CheckpointException(file + ": invalid safetensors header length " + headerLength
                        + " (file has " + fileSize + " bytes; truncated or not a safetensors file)");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            readFully(channel, header, 8);
            JsonNode table;
            try {
                table = JSON.readTree(header.array());
            } catch (IOException e) {
                throw new CheckpointException(file + ": safetensors header is not valid JSON", e);
            }
            long dataStart = 8 + headerLength;
            long dataSize = fileSize - dataStart;
            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> entry : table.properties()) {
                if (entry.getKey().equals("__metadata__")) {
                    continue;
                }
                tensors.put(entry.getKey(), parseEntry(file, entry.getKey(), entry.getValue(), dataStart, dataSize));
            }
            return tensors;
        }
    }

    private static TensorInfo parseEntry(Path file, String name, JsonNode entry, long dataStart, long dataSize)
            throws CheckpointException {
        DType dtype;
        try {
            dtype = DType.fromHeaderName(entry.path("dtype").asText());
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file + ": tensor '" + name + "': " + e.getMessage());
        }
        JsonNode shapeNode = entry.path("shape");
        JsonNode offsets = entry.path("data_offsets");
        if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
            throw new CheckpointException(file + ": tensor '" + name + "' has a malformed header entry " + entry);
        }
        long[] shape = new long[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeNode.get(i).asLong();
            if (shape[i] < 0) {
                throw new CheckpointException(file + ": tensor '" + name + "' has a negative dimension");
            }
            elements *= shape[i];
        }
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        if (end - begin != elements * dtype.byteSize() || begin < 0) {
            throw new CheckpointException(file + ": tensor '" + name + "' " + dtype + java.util.Arrays.toString(shape)
                    + " needs " + elements * dtype.byteSize() + " bytes but its offsets span " + (end - begin));
        }
        if (end > dataSize) {
            throw new CheckpointException(file + ": tensor '" + name + "' ends at byte " + (dataStart + end)
                    + " but the file has only " + (dataStart + dataSize) + " bytes (truncated file?)");
        }
        return new TensorInfo(name, dtype, shape, file, dataStart + begin, end - begin);
    }

    /** Maps a tensor's bytes read-only, little-endian. Each tensor is under 2 GiB in every published checkpoint. */
    public static ByteBuffer map(TensorInfo tensor) throws IOException {
        if (tensor.byteLength() > Integer.MAX_VALUE) {
            throw new CheckpointException(
                    tensor.file() + ": tensor '" + tensor.name() + "' is larger than 2 GiB, which is not supported");
        }
        try (FileChannel channel = FileChannel.open(tensor.file(), StandardOpenOption.READ)) {
            return channel.map(FileChannel.MapMode.READ_ONLY, tensor.offset(), tensor.byteLength())
                    .order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long pos = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, pos);
            if (n < 0) {
                throw new CheckpointException("unexpected end of file");
            }
            pos += n;
        }
    }
}
