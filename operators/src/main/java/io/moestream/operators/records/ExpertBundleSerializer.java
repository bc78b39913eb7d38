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
 * The wire form of an {@link ExpertBundle}: its fixed fields, then its rows' floats in bulk ({@link FloatPayloads}).
 * Bundles only travel (they are never in a checkpoint), so the format may change between versions.
 */
public final class ExpertBundleSerializer extends FloatRecordSerializer<ExpertBundle> {
    private static final long serialVersionUID = 1L;

    @Override
    public TypeSerializer<ExpertBundle> duplicate() {
        return new ExpertBundleSerializer(); // each has its own conversion buffer
    }

    @Override
    ExpertBundle newRecord() {
        return new ExpertBundle();
    }

    @Override
    public ExpertBundle copy(ExpertBundle from, ExpertBundle reuse) {
        reuse.originSubtask = from.originSubtask;
        reuse.passId = from.passId;
        reuse.layer = from.layer;
        reuse.expert = from.expert;
        reuse.bundleIndex = from.bundleIndex;
        reuse.rows = from.rows;
        reuse.groupSize = from.groupSize;
        reuse.input = from.input == null ? null : from.input.clone();
        return reuse;
    }

    @Override
    public void serialize(ExpertBundle record, DataOutputView target) throws IOException {
        target.writeInt(record.originSubtask);
        target.writeLong(record.passId);
        target.writeInt(record.layer);
        target.writeInt(record.expert);
        target.writeInt(record.bundleIndex);
        target.writeInt(record.rows);
        target.writeInt(record.groupSize);
        floats().write(record.input, target);
    }

    @Override
    public ExpertBundle deserialize(ExpertBundle reuse, DataInputView source) throws IOException {
        reuse.originSubtask = source.readInt();
        reuse.passId = source.readLong();
        reuse.layer = source.readInt();
        reuse.expert = source.readInt();
        reuse.bundleIndex = source.readInt();
        reuse.rows = source.readInt();
        reuse.groupSize = source.readInt();
        reuse.input = floats().read(source);
        return reuse;
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        target.writeInt(source.readInt());
        target.writeLong(source.readLong());
        for (int i = 0; i < 5; i++) {
            target.writeInt(source.readInt());
        }
        floats().copy(source, target);
    }

    @Override
    public TypeSerializerSnapshot<ExpertBundle> snapshotConfiguration() {
        return new Snapshot();
    }

    /** The serializer's snapshot: no configuration. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<ExpertBundle> {
        public Snapshot() {
            super(ExpertBundleSerializer::new);
        }
    }

    /** Makes Flink's type extraction use this serializer wherever an {@link ExpertBundle} travels. */
    public static final class Factory extends TypeInfoFactory<ExpertBundle> {
        @Override
        public TypeInformation<ExpertBundle> createTypeInfo(Type type, Map<String, TypeInformation<?>> parameters) {
            return new RecordTypeInfo<>(ExpertBundle.class, new ExpertBundleSerializer());
        }
    }
}
