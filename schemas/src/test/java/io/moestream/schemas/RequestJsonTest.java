package io.moestream.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.schemas.avro.ChatMessage;
import io.moestream.schemas.avro.CompletionRequest;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The request JSON of DESIGN.md section 5: what it accepts, what it refuses and with which code. */
class RequestJsonTest {
    private static final RequestCodec JSON = RequestCodec.create(WireFormat.JSON);

    @Test
    void aFullRequestDecodesToEveryField() throws DecodeException {
        CompletionRequest request = decode("""
                {"id": "r1", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5, "temperature": 1,
                 "top_p": 0.5, "top_k": 3, "seed": 9007199254740993, "stop": ["a", "b"], "metadata": {"k": "v"}}
                """);
        assertEquals(
                CompletionRequest.newBuilder()
                        .setId("r1")
                        .setMessages(List.of(new ChatMessage("user", "hi")))
                        .setMaxTokens(5)
                        .setTemperature(1.0)
                        .setTopP(0.5)
                        .setTopK(3)
                        .setSeed(9007199254740993L)
                        .setStop(List.of("a", "b"))
                        .setMetadata(Map.of("k", "v"))
                        .build(),
                request);
    }

    @Test
    void absentAndNullFieldsTakeTheirDefaults() throws DecodeException {
        CompletionRequest request =
                decode("{\"id\": \"r1\", \"prompt\": \"hi\", \"max_tokens\": null, \"stop\": null}");
        assertEquals(CompletionRequest.newBuilder().setId("r1").setPrompt("hi").build(), request);
        assertNull(request.getMaxTokens());
        assertEquals(List.of(), request.getStop());
        assertEquals(Map.of(), request.getMetadata());
    }

    @Test
    void promptIdsAndIgnoreEosDecodeAndEncodeBack() throws DecodeException {
        CompletionRequest request =
                decode("{\"id\": \"r1\", \"prompt_ids\": [0, 17, 2047], \"max_tokens\": 4, \"ignore_eos\": true}");
        assertEquals(List.of(0, 17, 2047), request.getPromptIds());
        assertEquals(Boolean.TRUE, request.getIgnoreEos());
        assertNull(request.getPrompt());
        assertEquals(request, decode(new String(JSON.encode(request), StandardCharsets.UTF_8)));
    }

    @Test
    void aSingleStopStringIsAListOfOne() throws DecodeException {
        assertEquals(
                List.of("\n\n"),
                decode("{\"id\": \"r1\", \"prompt\": \"hi\", \"stop\": \"\\n\\n\"}")
                        .getStop());
    }

    @Test
    void unknownFieldsAreIgnoredSoThatProducersCanAddFieldsFirst() throws DecodeException {
        assertEquals(
                "r1",
                decode("{\"id\": \"r1\", \"prompt\": \"hi\", \"presence_penalty\": 0.5, \"user\": {\"x\": 1}}")
                        .getId());
    }

    @Test
    void valueRangesAndThePromptMessagesChoiceAreLeftToTheJob() throws DecodeException {
        CompletionRequest request = decode("""
                {"id": "", "prompt": "", "messages": [], "max_tokens": -1, "temperature": -2, "top_p": 7, "top_k": -3,
                 "stop": [""]}
                """);
        assertEquals(-1, request.getMaxTokens());
        assertEquals(-2.0, request.getTemperature());
        assertEquals(List.of(), request.getMessages());
    }

    @Test
    void theEncodedFormLeavesAbsentFieldsOut() {
        byte[] value = JSON.encode(Records.minimalRequest());
        assertEquals(
                "{\"id\":\"req-2\",\"prompt\":\"Once upon a time\",\"stop\":[],\"metadata\":{}}",
                new String(value, StandardCharsets.UTF_8));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            {"prompt": "hi"}                                              | id
            {"id": null, "prompt": "hi"}                                  | id
            {"id": "r1", "messages": [{"role": "user"}]}                  | messages[0].content
            {"id": "r1", "messages": [{"content": "hi"}]}                 | messages[0].role
            """)
    void aMissingRequiredFieldIsMissingField(String json, String path) {
        DecodeException e = assertThrows(DecodeException.class, () -> decode(json));
        assertEquals(DecodeException.Code.MISSING_FIELD, e.code());
        assertEquals("missing '" + path + "'", e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            {"id": 7, "prompt": "hi"}                                     | id
            {"id": "r1", "prompt": ["hi"]}                                | prompt
            {"id": "r1", "messages": "hi"}                                | messages
            {"id": "r1", "messages": ["hi"]}                              | messages[0]
            {"id": "r1", "messages": [{"role": 1, "content": "hi"}]}      | messages[0].role
            {"id": "r1", "prompt": "hi", "max_tokens": "5"}               | max_tokens
            {"id": "r1", "prompt": "hi", "max_tokens": 5.5}               | max_tokens
            {"id": "r1", "prompt": "hi", "max_tokens": 1e3}               | max_tokens
            {"id": "r1", "prompt": "hi", "max_tokens": 2147483648}        | max_tokens
            {"id": "r1", "prompt": "hi", "temperature": "hot"}            | temperature
            {"id": "r1", "prompt": "hi", "top_p": true}                   | top_p
            {"id": "r1", "prompt": "hi", "top_k": 1.5}                    | top_k
            {"id": "r1", "prompt": "hi", "seed": 9223372036854775808}     | seed
            {"id": "r1", "prompt": "hi", "seed": "1"}                     | seed
            {"id": "r1", "prompt": "hi", "stop": 1}                       | stop
            {"id": "r1", "prompt": "hi", "stop": ["a", 1]}                | stop[1]
            {"id": "r1", "prompt": "hi", "metadata": ["a"]}               | metadata
            {"id": "r1", "prompt": "hi", "metadata": {"row": 17}}         | metadata.row
            {"id": "r1", "prompt_ids": [1, "2"]}                          | prompt_ids[1]
            {"id": "r1", "prompt_ids": 5}                                 | prompt_ids
            {"id": "r1", "prompt": "hi", "ignore_eos": "yes"}             | ignore_eos
            """)
    void aMistypedFieldIsInvalidFieldNamedByItsPath(String json, String path) {
        DecodeException e = assertThrows(DecodeException.class, () -> decode(json));
        assertEquals(DecodeException.Code.INVALID_FIELD, e.code());
        assertTrue(e.getMessage().startsWith("'" + path + "' must be "), e.getMessage());
    }

    @Test
    void aLongValueIsShortenedInTheMessage() {
        String longPrompt = "x".repeat(10_000);
        DecodeException e = assertThrows(
                DecodeException.class, () -> decode("{\"id\": \"r1\", \"prompt\": [\"" + longPrompt + "\"]}"));
        assertTrue(e.getMessage().length() < 200, e.getMessage());
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(
            strings = {
                "",
                "   ",
                "not json",
                "{\"id\": \"r1\", \"prompt\": ",
                "[{\"id\": \"r1\"}]",
                "\"r1\"",
                "null",
                "42",
                "{\"id\": \"r1\", \"prompt\": \"hi\"} {\"id\": \"r2\"}",
                "{\"id\": \"r1\", \"id\": \"r2\", \"prompt\": \"hi\"}",
                "{\"id\": \"r1\", \"prompt\": NaN}"
            })
    void textThatIsNotOneJsonObjectIsUndecodable(String text) {
        assertUndecodable(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void bytesThatAreNotUtf8AreUndecodable() {
        String json = "{\"id\": \"r1\", \"prompt\": \"hi\"}";
        assertUndecodable(json.getBytes(StandardCharsets.UTF_16));
        assertUndecodable(json.getBytes(Charset.forName("UTF-32")));
        byte[] invalidUtf8 = {'{', '"', 'i', 'd', '"', ':', '"', (byte) 0xFF, '"', '}'};
        assertUndecodable(invalidUtf8);
    }

    @Test
    void anAvroRecordIsUndecodableAsJson() {
        assertUndecodable(RequestCodec.create(WireFormat.AVRO).encode(Records.chatRequest()));
    }

    private static void assertUndecodable(byte[] value) {
        DecodeException e = assertThrows(DecodeException.class, () -> JSON.decode(value));
        assertEquals(DecodeException.Code.UNDECODABLE, e.code(), e.getMessage());
    }

    private static CompletionRequest decode(String json) throws DecodeException {
        return JSON.decode(json.getBytes(StandardCharsets.UTF_8));
    }
}
