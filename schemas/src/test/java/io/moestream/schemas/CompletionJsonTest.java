package io.moestream.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The completion JSON: its exact form, and what a reader refuses. */
class CompletionJsonTest {
    private static final CompletionCodec JSON = CompletionCodec.create(WireFormat.JSON);

    @Test
    void aCompletionWithoutTimingsHasNoTimingsField() {
        assertEquals(
                "{\"id\":\"cmpl-req-1\",\"request_id\":\"req-1\",\"model\":\"tiny-deepseek-v3\",\"text\":\"Blue\","
                        + "\"ids\":[31,2],\"finish_reason\":\"stop\","
                        + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":2,\"total_tokens\":14},"
                        + "\"metadata\":{\"row\":\"17\"}}",
                new String(JSON.encode(Records.completion()), StandardCharsets.UTF_8));
    }

    @Test
    void timingsComeBeforeTheMetadataWhenPresent() {
        assertEquals(
                "{\"id\":\"cmpl-req-1\",\"request_id\":\"req-1\",\"model\":\"tiny-deepseek-v3\",\"text\":\"Blue\","
                        + "\"ids\":[31,2],\"finish_reason\":\"stop\","
                        + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":2,\"total_tokens\":14},"
                        + "\"timings\":{\"received_at_ms\":1700000000000,\"time_to_first_token_ms\":35,\"total_ms\":120},"
                        + "\"metadata\":{\"row\":\"17\"}}",
                new String(JSON.encode(Records.completionWithTimings()), StandardCharsets.UTF_8));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            MISSING_FIELD | {"id": "c", "request_id": "r", "model": "m", "text": "t", "finish_reason": "stop"}
            MISSING_FIELD | {"id": "c", "request_id": "r", "model": "m", "text": "t", "finish_reason": "stop", "usage": {"prompt_tokens": 1, "completion_tokens": 1}}
            INVALID_FIELD | {"id": "c", "request_id": "r", "model": "m", "text": "t", "finish_reason": "stop", "usage": {"prompt_tokens": "1", "completion_tokens": 1, "total_tokens": 2}}
            INVALID_FIELD | {"id": "c", "request_id": "r", "model": "m", "text": "t", "finish_reason": "stop", "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}, "ids": [1, "2"]}
            INVALID_FIELD | {"id": "c", "request_id": "r", "model": "m", "text": "t", "finish_reason": "stop", "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}, "timings": 5}
            """)
    void refusesIncompleteOrMistypedCompletions(DecodeException.Code code, String json) {
        DecodeException e =
                assertThrows(DecodeException.class, () -> JSON.decode(json.getBytes(StandardCharsets.UTF_8)));
        assertEquals(code, e.code(), e.getMessage());
    }
}
