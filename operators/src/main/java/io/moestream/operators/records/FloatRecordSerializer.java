package io.moestream.operators.records;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputView;

/**
 * What the serializers of the expert loop's records share: mutable records of variable length whose payload is a
 * float array written in bulk ({@link FloatPayloads}, one conversion buffer per serializer instance). A subclass
 * writes its fixed fields and its payload; instances are interchangeable, so equality is by class.
 */
abstract class FloatRecordSerializer<T> extends TypeSerializer<T> {
    private static final long serialVersionUID = 1L;
    private transient FloatPayloads floats;

    /** A new, empty record. */
    abstract T newRecord();

    @Override
    public final boolean isImmutableType() {
        return false;
    }

    @Override
    public final T createInstance() {
        return newRecord();
    }

    @Override
    public final T copy(T from) {
        return copy(from, newRecord());
    }

    @Override
    public final int getLength() {
        return -1;
    }

    @Override
    public final T deserialize(DataInputView source) throws IOException {
        return deserialize(newRecord(), source);
    }

    /** This instance's bulk float conversion (not shared: {@link #duplicate} gives each user its own). */
    final FloatPayloads floats() {
        if (floats == null) {
            floats = new FloatPayloads();
        }
        return floats;
    }

    @Override
    public final boolean equals(Object other) {
        return other != null && other.getClass() == getClass();
    }

    @Override
    public final int hashCode() {
        return getClass().hashCode();
    }
}
