package io.moestream.schemas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.moestream.schemas.avro.Completion;
import io.moestream.schemas.avro.CompletionRequest;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Every record type survives encode then decode in both wire formats, and encodes to the same bytes every time. */
class RoundTripTest {
    /** A codec and a record it encodes, typed together so that the test needs no casts. */
    record Case<T extends SpecificRecord>(String name, RecordCodec<T> codec, T record) {
        void assertRoundTrip() throws DecodeException {
            byte[] value = codec.encode(record);
            assertEquals(record, codec.decode(value));
            // Byte-identical replays need byte-identical encodings of equal records.
            assertArrayEquals(value, codec.encode(codec.decode(value)));
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case<?>> cases() {
        return Arrays.stream(WireFormat.values())
                .flatMap(format -> Stream.of(
                        new Case<>(format + " chat request", RequestCodec.create(format), Records.chatRequest()),
                        new Case<>(format + " minimal request", RequestCodec.create(format), Records.minimalRequest()),
                        new Case<>(format + " completion", CompletionCodec.create(format), Records.completion()),
                        new Case<>(
                                format + " completion with timings",
                                CompletionCodec.create(format),
                                Records.completionWithTimings()),
                        new Case<>(format + " dead letter", DeadLetterCodec.create(format), Records.deadLetter()),
                        new Case<>(
                                format + " dead letter without origin",
                                DeadLetterCodec.create(format),
                                Records.deadLetterWithoutOrigin())));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void roundTrips(Case<?> testCase) throws DecodeException {
        testCase.assertRoundTrip();
    }

    @ParameterizedTest
    @EnumSource(WireFormat.class)
    void aRecordThatDoesNotFitItsSchemaIsNotEncoded(WireFormat format) {
        CompletionRequest withoutId = new CompletionRequest();
        withoutId.setPrompt("hi");
        withoutId.setStop(List.of());
        withoutId.setMetadata(Map.of());
        assertThrows(
                IllegalArgumentException.class,
                () -> RequestCodec.create(format).encode(withoutId));
    }

    @ParameterizedTest
    @EnumSource(WireFormat.class)
    void mapsAreWrittenInKeyOrderWhateverTheirIterationOrder(WireFormat format) {
        Map<String, String> ab = new LinkedHashMap<>();
        ab.put("a", "1");
        ab.put("b", "2");
        Map<String, String> ba = new LinkedHashMap<>();
        ba.put("b", "2");
        ba.put("a", "1");
        CompletionCodec codec = CompletionCodec.create(format);
        assertArrayEquals(
                codec.encode(Completion.newBuilder(Records.completion())
                        .setMetadata(ab)
                        .build()),
                codec.encode(Completion.newBuilder(Records.completion())
                        .setMetadata(ba)
                        .build()));
    }
}
