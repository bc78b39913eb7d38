package io.moestream.engine.checkpoint;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Where one tensor of a safetensors file lives.
 *
 * @param name the tensor's name, e.g. {@code model.layers.0.self_attn.q_a_proj.weight}
 * @param dtype its element type
 * @param shape its dimensions, outermost first
 * @param file the file that holds it
 * @param offset the byte offset of its data in the file
 * @param byteLength the size of its data
 */
public record TensorInfo(String name, DType dtype, long[] shape, Path file, long offset, long byteLength) {

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TensorInfo t
                && name.equals(t.name)
                && dtype == t.dtype
                && Arrays.equals(shape, t.shape)
                && file.equals(t.file)
                && offset == t.offset
                && byteLength == t.byteLength;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Long.hashCode(offset);
    }

    @Override
    public String toString() {
        return name + " " + dtype + shapeString() + " in " + file.getFileName();
    }
}
