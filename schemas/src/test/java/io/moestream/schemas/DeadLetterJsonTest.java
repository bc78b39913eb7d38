package io.moestream.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The dead-letter JSON: original bytes in base64, absent coordinates left out. */
class DeadLetterJsonTest {
    private static final DeadLetterCodec JSON = DeadLetterCodec.create(WireFormat.JSON);

    @Test
    void theOriginalBytesAreBase64() {
        assertEquals(
                "{\"code\":\"UNDECODABLE\",\"message\":\"not UTF-8 text\",\"original\":\"wwH/AA==\","
                        + "\"original_key\":\"cmVxLTk=\",\"topic\":\"requests\",\"partition\":3,\"offset\":1234567,"
                        + "\"timestamp\":1700000000000}",
                new String(JSON.encode(Records.deadLetter()), StandardCharsets.UTF_8));
    }

    @Test
    void absentCoordinatesAreLeftOut() {
        assertEquals(
                "{\"code\":\"INVALID_FIELD\",\"message\":\"'max_tokens' must be a 32-bit integer, got \\\"5\\\"\","
                        + "\"original\":\"eyJpZCI6ImEiLCJtYXhfdG9rZW5zIjoiNSJ9\"}",
                new String(JSON.encode(Records.deadLetterWithoutOrigin()), StandardCharsets.UTF_8));
    }

    @Test
    void originalBytesThatAreNotBase64AreAnInvalidField() {
        byte[] value =
                "{\"code\": \"X\", \"message\": \"m\", \"original\": \"not base64!\"}".getBytes(StandardCharsets.UTF_8);
        DecodeException e = assertThrows(DecodeException.class, () -> JSON.decode(value));
        assertEquals(DecodeException.Code.INVALID_FIELD, e.code());
    }
}
