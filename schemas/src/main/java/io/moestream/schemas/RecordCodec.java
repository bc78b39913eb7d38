package io.moestream.schemas;

import java.util.Collection;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Encodes and decodes the values of one topic's records in that topic's {@link WireFormat}. Instances are
 * thread-safe; they are not serializable, so a Flink function creates its codec in {@code open}.
 */
public abstract sealed class RecordCodec<T extends SpecificRecord>
        permits RequestCodec, CompletionCodec, DeadLetterCodec {
    private final Schema schema;
    private final RecordFormat<T> format;

    /**
     * @param olderWriterSchemas for {@link WireFormat#AVRO}: the schemas, besides {@code schema}, that the topic's
     *     records may have been written with; each must be resolvable to {@code schema}
     */
    RecordCodec(
            WireFormat wireFormat,
            Schema schema,
            Collection<Schema> olderWriterSchemas,
            JsonFormat.Writer<T> toJson,
            JsonFormat.Reader<T> fromJson) {
        this.schema = schema;
        this.format = switch (wireFormat) {
            case AVRO -> new AvroFormat<>(schema, olderWriterSchemas);
            case JSON -> new JsonFormat<>(toJson, fromJson);
        };
    }

    /** The record of a value, or a {@link DecodeException} with its code; never another exception for bad input. */
    public final T decode(byte[] value) throws DecodeException {
        return format.decode(value);
    }

    /**
     * The value of a record.
     *
     * @throws IllegalArgumentException when the record does not fit its schema (a required field is null), in
     *     either format
     */
    public final byte[] encode(T record) {
        if (!SpecificData.get().validate(schema, record)) {
            throw new IllegalArgumentException(
                    "not a valid " + schema.getName() + ": a required field is null, or a field has the wrong type");
        }
        return format.encode(record);
    }
}
