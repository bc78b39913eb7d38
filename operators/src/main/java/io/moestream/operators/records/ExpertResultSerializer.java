package io.moestream.operators.records;

import java.io.IOException;
import java.lang.reflect.Type;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * The wire form of an {@link ExpertResult}: its fixed fields, then the output floats in bulk ({@link FloatPayloads}).
 * Results only travel (they are never in a checkpoint), so the format may change between versions.
 */
public final class ExpertResultSerializer extends FloatRecordSerializer<ExpertResult> {
    private static final long serialVersionUID = 1L;

    @Override
    public TypeSerializer<ExpertResult> duplicate() {
        return new ExpertResultSerializer(); // each has its own conversion buffer
    }

    @Override
    ExpertResult newRecord() {
        return new ExpertResult();
    }

    @Override
    public ExpertResult copy(ExpertResult from, ExpertResult reuse) {
        reuse.originSubtask = from.originSubtask;
        reuse.passId = from.passId;
        reuse.layer = from.layer;
        reuse.bundleIndex = from.bundleIndex;
        reuse.output = from.output == null ? null : from.output.clone();
        return reuse;
    }

    @Override
    public void serialize(ExpertResult record, DataOutputView target) throws IOException {
        target.writeInt(record.originSubtask);
        target.writeLong(record.passId);
        target.writeInt(record.layer);
        target.writeInt(record.bundleIndex);
        floats().write(record.output, target);
    }

    @Override
    public ExpertResult deserialize(ExpertResult reuse, DataInputView source) throws IOException {
        reuse.originSubtask = source.readInt();
        reuse.passId = source.readLong();
        reuse.layer = source.readInt();
        reuse.bundleIndex = source.readInt();
        reuse.output = floats().read(source);
        return reuse;
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        target.writeInt(source.readInt());
        target.writeLong(source.readLong());
        target.writeInt(source.readInt());
        target.writeInt(source.readInt());
        floats().copy(source, target);
    }

    @Override
    public TypeSerializerSnapshot<ExpertResult> snapshotConfiguration() {
        return new Snapshot();
    }

    /** The serializer's snapshot: no configuration. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<ExpertResult> {
        public Snapshot() {
            super(ExpertResultSerializer::new);
        }
    }

    /** Makes Flink's type extraction use this serializer wherever an {@link ExpertResult} travels. */
    public static final class Factory extends TypeInfoFactory<ExpertResult> {
        @Override
        public TypeInformation<ExpertResult> createTypeInfo(Type type, Map<String, TypeInformation<?>> parameters) {
            return new RecordTypeInfo<>(ExpertResult.class, new ExpertResultSerializer());
        }
    }
}
