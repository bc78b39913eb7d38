package io.moestream.engine.util;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** NumPy {@code .npy} files (format 1.0) of little-endian float32, as {@code numpy.save} writes them. */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    private Npy() {}

    /** A float32 array with its shape. */
    public record FloatArray(int[] shape, float[] data) {}

    public static void writeFloat32(Path file, float[] data, int... shape) throws IOException {
        StringBuilder dims = new StringBuilder();
        for (int d : shape) {
            dims.append(d).append(", ");
        }
        if (shape.length > 1) {
            dims.setLength(dims.length() - 2);
        }
        String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
        // Pad with spaces so that magic + length + header + newline is a multiple of 64 bytes.
        int unpadded = MAGIC.length + 2 + header.length() + 1;
        header = header + " ".repeat((64 - unpadded % 64) % 64) + "\n";
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(MAGIC);
            out.write(header.length() & 0xFF);
            out.write(header.length() >>> 8);
            out.write(header.getBytes(StandardCharsets.US_ASCII));
            ByteBuffer buffer = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : data) {
                if (!buffer.hasRemaining()) {
                    out.write(buffer.array(), 0, buffer.position());
                    buffer.clear();
                }
                buffer.putFloat(v);
            }
            out.write(buffer.array(), 0, buffer.position());
        }
    }

    public static FloatArray readFloat32(Path file) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) {
            if (bytes.get(i) != MAGIC[i]) {
                throw new IOException(file + " is not a .npy file");
            }
        }
        int major = bytes.get(6);
        int headerLength = major == 1 ? Short.toUnsignedInt(bytes.getShort(8)) : bytes.getInt(8);
        int dataStart = (major == 1 ? 10 : 12) + headerLength;
        String header = new String(bytes.array(), dataStart - headerLength, headerLength, StandardCharsets.US_ASCII);
        if (!header.contains("'<f4'") || header.contains("'fortran_order': True")) {
            throw new IOException(file + ": only C-ordered little-endian float32 is supported, header " + header);
        }
        Matcher m = SHAPE.matcher(header);
        if (!m.find()) {
            throw new IOException(file + ": no shape in header " + header);
        }
        String[] parts = m.group(1).split(",");
        int count = 0;
        int[] shape = new int[parts.length];
        int elements = 1;
        for (String part : parts) {
            if (!part.isBlank()) {
                shape[count] = Integer.parseInt(part.trim());
                elements *= shape[count++];
            }
        }
        float[] data = new float[elements];
        bytes.position(dataStart);
        bytes.asFloatBuffer().get(data);
        return new FloatArray(java.util.Arrays.copyOf(shape, count), data);
    }
}
