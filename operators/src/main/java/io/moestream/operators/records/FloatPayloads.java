package io.moestream.operators.records;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Float arrays on the wire in bulk: a length, then the floats as little-endian bytes, converted and written a block at
 * a time rather than one {@code writeFloat} call per element (what Flink's POJO serializer does). The bundles and
 * results of the expert loop carry {@code rows x hidden} floats each, twice per MoE layer and step.
 */
final class FloatPayloads {
    /** Floats converted per block: 64 KiB of bytes. */
    private static final int BLOCK = 1 << 14;

    private final byte[] bytes = new byte[BLOCK * Float.BYTES];
    private final ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);

    void write(float[] values, DataOutputView target) throws IOException {
        if (values == null) {
            target.writeInt(-1);
            return;
        }
        target.writeInt(values.length);
        for (int from = 0; from < values.length; from += BLOCK) {
            int n = Math.min(BLOCK, values.length - from);
            buffer.clear();
            buffer.asFloatBuffer().put(values, from, n);
            target.write(bytes, 0, n * Float.BYTES);
        }
    }

    float[] read(DataInputView source) throws IOException {
        int length = source.readInt();
        if (length < 0) {
            return null;
        }
        float[] values = new float[length];
        for (int from = 0; from < length; from += BLOCK) {
            int n = Math.min(BLOCK, length - from);
            source.readFully(bytes, 0, n * Float.BYTES);
            buffer.clear();
            buffer.asFloatBuffer().get(values, from, n);
        }
        return values;
    }

    /** Copies a serialized array from {@code source} to {@code target} without decoding it. */
    void copy(DataInputView source, DataOutputView target) throws IOException {
        int length = source.readInt();
        target.writeInt(length);
        for (int from = 0; from < length; from += BLOCK) {
            int n = Math.min(BLOCK, length - from) * Float.BYTES;
            source.readFully(bytes, 0, n);
            target.write(bytes, 0, n);
        }
    }
}
