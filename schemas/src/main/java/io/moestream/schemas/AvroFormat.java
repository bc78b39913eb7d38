package io.moestream.schemas;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.SchemaCompatibility.SchemaPairCompatibility;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * Avro single-object encoding of a generated record class: writes with the current schema, reads records written with
 * it or with any of the older writer schemas it was given, resolving them to the current one.
 *
 * <p>Writing is Avro's {@link BinaryMessageEncoder}. Reading is what Avro's {@code BinaryMessageDecoder} does, with
 * the body read through a {@link BoundedDecoder}: Avro's own would allocate whatever a corrupt length asks for.
 */
final class AvroFormat<T> implements RecordFormat<T> {
    private static final byte[] MARKER = {(byte) 0xC3, 0x01};
    private static final int HEADER_LENGTH = MARKER.length + Long.BYTES;

    private final BinaryMessageEncoder<T> encoder;
    /** By the CRC-64-AVRO fingerprint of the writer schema. */
    private final Map<Long, DatumReader<T>> readers;

    AvroFormat(Schema schema, Collection<Schema> olderWriterSchemas) {
        SpecificData model = new SortedMapsModel();
        encoder = new BinaryMessageEncoder<>(model, schema);
        Map<Long, DatumReader<T>> readers = new HashMap<>();
        readers.put(SchemaNormalization.parsingFingerprint64(schema), new SpecificDatumReader<>(schema, schema, model));
        for (Schema writer : olderWriterSchemas) {
            // Fail when the job starts, not with a dead letter for every record of that schema.
            SchemaPairCompatibility compatibility = SchemaCompatibility.checkReaderWriterCompatibility(schema, writer);
            if (compatibility.getType() != SchemaCompatibilityType.COMPATIBLE) {
                throw new IllegalArgumentException(schema.getFullName() + " cannot read records written with " + writer
                        + ": " + compatibility.getDescription());
            }
            readers.put(
                    SchemaNormalization.parsingFingerprint64(writer), new SpecificDatumReader<>(writer, schema, model));
        }
        this.readers = Map.copyOf(readers);
    }

    /**
     * Writes map entries in key order, so that equal records encode to equal bytes whichever Map class holds them (a
     * replay, or a restore from a checkpoint, may rebuild a map with another iteration order).
     */
    private static final class SortedMapsModel extends SpecificData {
        SortedMapsModel() {
            // The loader of the generated classes, which may not be Avro's own (Flink's child-first class loading).
            super(SortedMapsModel.class.getClassLoader());
        }

        @Override
        public DatumWriter<Object> createDatumWriter(Schema schema) {
            return new SpecificDatumWriter<>(schema, this) {
                @Override
                protected Iterable<Map.Entry<Object, Object>> getMapEntries(Object map) {
                    Map<Object, Object> sorted = new TreeMap<>(Comparator.comparing(Object::toString));
                    sorted.putAll((Map<?, ?>) map);
                    return sorted.entrySet();
                }
            };
        }
    }

    @Override
    public byte[] encode(T record) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            encoder.encode(record, out);
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory failed", e);
        }
        return out.toByteArray();
    }

    @Override
    public T decode(byte[] value) throws DecodeException {
        if (value.length < HEADER_LENGTH || value[0] != MARKER[0] || value[1] != MARKER[1]) {
            throw new DecodeException(
                    DecodeException.Code.UNDECODABLE,
                    "not Avro single-object encoding (C3 01, an 8-byte schema fingerprint, the body)");
        }
        long fingerprint = ByteBuffer.wrap(value, MARKER.length, Long.BYTES)
                .order(ByteOrder.LITTLE_ENDIAN)
                .getLong();
        DatumReader<T> reader = readers.get(fingerprint);
        if (reader == null) {
            throw new DecodeException(
                    DecodeException.Code.UNKNOWN_SCHEMA_FINGERPRINT,
                    String.format(
                            "written with an unknown schema (fingerprint %016x); add that writer schema to the known"
                                    + " schemas to read it",
                            fingerprint));
        }
        BinaryDecoder body =
                DecoderFactory.get().binaryDecoder(value, HEADER_LENGTH, value.length - HEADER_LENGTH, null);
        T record;
        boolean bytesLeft;
        try {
            record = reader.read(null, new BoundedDecoder(body, value.length));
            bytesLeft = !body.isEnd();
        } catch (EOFException e) {
            throw new DecodeException(
                    DecodeException.Code.UNDECODABLE, "a truncated Avro record: the value ends inside it", e);
        } catch (IOException | RuntimeException e) {
            // Untrusted bytes behind a valid header: Avro reports corruption with assorted runtime exceptions, and
            // each one is a bad record, never a reason to fail the job.
            throw new DecodeException(
                    DecodeException.Code.UNDECODABLE,
                    "a corrupt Avro record: " + Objects.requireNonNullElse(e.getMessage(), e.toString()),
                    e);
        }
        if (bytesLeft) {
            throw new DecodeException(DecodeException.Code.UNDECODABLE, "bytes left over after the Avro record");
        }
        return record;
    }
}
