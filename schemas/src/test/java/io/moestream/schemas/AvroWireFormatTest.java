package io.moestream.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.schemas.avro.ChatMessage;
import io.moestream.schemas.avro.CompletionRequest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Avro single-object encoding: the header, schema evolution, and bad bytes as DecodeExceptions. */
class AvroWireFormatTest {
    private static final int HEADER_LENGTH = 10;
    private static final RequestCodec REQUESTS = RequestCodec.create(WireFormat.AVRO);

    static Stream<Arguments> encodedRecords() {
        return Stream.of(
                Arguments.of("CompletionRequest", REQUESTS.encode(Records.chatRequest())),
                Arguments.of(
                        "Completion", CompletionCodec.create(WireFormat.AVRO).encode(Records.completion())),
                Arguments.of(
                        "DeadLetter", DeadLetterCodec.create(WireFormat.AVRO).encode(Records.deadLetter())));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("encodedRecords")
    void everyRecordStartsWithTheMarkerAndTheFingerprintOfItsPublishedSchema(String name, byte[] value)
            throws IOException {
        // Parsed from the .avsc file, as a producer in another language would: the Java-only properties of the
        // generated classes must not change the fingerprint.
        Schema published = new Schema.Parser()
                .parse(Path.of("src/main/avro", name + ".avsc").toFile());
        assertEquals((byte) 0xC3, value[0]);
        assertEquals((byte) 0x01, value[1]);
        long fingerprint =
                ByteBuffer.wrap(value, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(SchemaNormalization.parsingFingerprint64(published), fingerprint);
    }

    @Test
    void readsARecordWrittenWithAnOlderSchemaAndFillsTheNewFieldsWithTheirDefaults() throws Exception {
        Schema v1 = olderRequestSchema();
        Schema chatMessageV1 =
                v1.getField("messages").schema().getTypes().get(1).getElementType();
        GenericRecord written = new GenericRecordBuilder(v1)
                .set("id", "old-1")
                .set(
                        "messages",
                        List.of(new GenericRecordBuilder(chatMessageV1)
                                .set("role", "user")
                                .set("content", "hi")
                                .build()))
                .set("max_tokens", 8)
                .set("temperature", 0.0)
                .set("stop", List.of("."))
                .build();
        byte[] value = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v1)
                .encode(written)
                .array();

        CompletionRequest read =
                RequestCodec.create(WireFormat.AVRO, List.of(v1)).decode(value);

        assertEquals(
                CompletionRequest.newBuilder()
                        .setId("old-1")
                        .setMessages(List.of(new ChatMessage("user", "hi")))
                        .setMaxTokens(8)
                        .setTemperature(0.0)
                        .setStop(List.of("."))
                        .build(),
                read);
        assertNull(read.getTopK());
        assertNull(read.getSeed());
        assertEquals(Map.of(), read.getMetadata());
        assertNull(read.getPromptIds());
        assertNull(read.getIgnoreEos());
    }

    @Test
    void aReaderThatKnowsOlderSchemasStillReadsCurrentRecords() throws Exception {
        CompletionRequest request = Records.chatRequest();
        assertEquals(
                request,
                RequestCodec.create(WireFormat.AVRO, List.of(olderRequestSchema()))
                        .decode(REQUESTS.encode(request)));
    }

    @Test
    void aRecordWrittenWithAnUnknownSchemaIsRefusedWithItsFingerprint() throws Exception {
        Schema v1 = olderRequestSchema();
        GenericRecord written = new GenericRecordBuilder(v1)
                .set("id", "old-2")
                .set("prompt", "hi")
                .build();
        byte[] value = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v1)
                .encode(written)
                .array();

        DecodeException e = assertThrows(DecodeException.class, () -> REQUESTS.decode(value));

        assertEquals(DecodeException.Code.UNKNOWN_SCHEMA_FINGERPRINT, e.code());
        String fingerprint = String.format("%016x", SchemaNormalization.parsingFingerprint64(v1));
        assertTrue(e.getMessage().contains(fingerprint), e.getMessage());
    }

    @Test
    void anOlderSchemaThatCannotBeResolvedIsRefusedWhenTheCodecIsCreated() {
        Schema intIds = SchemaBuilder.record("CompletionRequest")
                .namespace("io.moestream.schemas.avro")
                .fields()
                .requiredInt("id")
                .endRecord();
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> RequestCodec.create(WireFormat.AVRO, List.of(intIds)));
        assertTrue(e.getMessage().contains("cannot read records written with"), e.getMessage());
    }

    @Test
    void everyTruncationIsUndecodable() {
        byte[] value = REQUESTS.encode(Records.chatRequest());
        for (int length = 0; length < value.length; length++) {
            byte[] truncated = Arrays.copyOf(value, length);
            assertUndecodable(truncated, "the first " + length + " of " + value.length + " bytes");
        }
    }

    static Stream<Arguments> garbage() {
        byte[] header = Arrays.copyOf(REQUESTS.encode(Records.minimalRequest()), HEADER_LENGTH);
        byte[] valid = REQUESTS.encode(Records.minimalRequest());
        return Stream.of(
                Arguments.of(
                        "JSON",
                        "{\"id\":\"a\",\"prompt\":\"hi\"}".getBytes(StandardCharsets.UTF_8),
                        "not Avro single-object encoding"),
                Arguments.of(
                        "a wrong marker",
                        new byte[] {(byte) 0xC3, 0x02, 1, 2, 3, 4, 5, 6, 7, 8, 0},
                        "not Avro single-object encoding"),
                // The id's length as a zig-zag varint: 2^30 bytes announced in a value of 15, refused before Avro
                // would allocate a gigabyte for it.
                Arguments.of(
                        "a huge string length",
                        withBody(header, 0x80, 0x80, 0x80, 0x80, 0x08),
                        "impossible length 1073741824 in a record of 15 bytes"),
                // id "a", prompt null, messages: an array of 2^30 items announced.
                Arguments.of(
                        "a huge item count",
                        withBody(header, 0x02, 'a', 0x00, 0x02, 0x80, 0x80, 0x80, 0x80, 0x08),
                        "impossible item count 1073741824"),
                Arguments.of("a negative string length", withBody(header, 0x01), "impossible length -1"),
                // id "a", then branch 7 of the 2-branch prompt union.
                Arguments.of("a union branch out of range", withBody(header, 0x02, 'a', 0x0E), "a corrupt Avro record"),
                Arguments.of(
                        "a varint longer than 10 bytes",
                        withBody(header, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF),
                        "a corrupt Avro record"),
                Arguments.of("a byte after the record", withBody(valid, 0x00), "bytes left over"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("garbage")
    void garbageIsUndecodable(String name, byte[] value, String reason) {
        DecodeException e = assertUndecodable(value, name);
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    @Test
    void interoperatesWithTheEncodingOfTheGeneratedClasses() throws Exception {
        // Producers and consumers may use CompletionRequest.toByteBuffer and fromByteBuffer directly.
        CompletionRequest request = Records.chatRequest();
        ByteBuffer generated = request.toByteBuffer();
        byte[] value = new byte[generated.remaining()];
        generated.get(value);
        assertEquals(request, REQUESTS.decode(value));
        assertEquals(request, CompletionRequest.fromByteBuffer(ByteBuffer.wrap(REQUESTS.encode(request))));
    }

    private static DecodeException assertUndecodable(byte[] value, String what) {
        DecodeException e = assertThrows(DecodeException.class, () -> REQUESTS.decode(value), what);
        assertEquals(DecodeException.Code.UNDECODABLE, e.code(), what + ": " + e.getMessage());
        return e;
    }

    private static byte[] withBody(byte[] header, int... body) {
        byte[] value = Arrays.copyOf(header, header.length + body.length);
        for (int i = 0; i < body.length; i++) {
            value[header.length + i] = (byte) body[i];
        }
        return value;
    }

    private static Schema olderRequestSchema() throws IOException {
        try (InputStream in = AvroWireFormatTest.class.getResourceAsStream("/avro/CompletionRequest-v1.avsc")) {
            return new Schema.Parser().parse(in);
        }
    }
}
