package io.moestream.schemas;

import io.moestream.schemas.avro.ChatMessage;
import io.moestream.schemas.avro.Completion;
import io.moestream.schemas.avro.CompletionRequest;
import io.moestream.schemas.avro.DeadLetter;
import io.moestream.schemas.avro.Timings;
import io.moestream.schemas.avro.Usage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** Sample records for the codec tests, each with every field set unless its name says otherwise. */
final class Records {
    private Records() {}

    static CompletionRequest chatRequest() {
        return CompletionRequest.newBuilder()
                .setId("req-1")
                .setMessages(List.of(
                        new ChatMessage("system", "Answer in one word."),
                        new ChatMessage("user", "Colour of the sky? \u5929\u7a7a \ud83c\udf0c")))
                .setMaxTokens(16)
                .setTemperature(0.7)
                .setTopP(0.9)
                .setTopK(40)
                .setSeed(-42L)
                .setStop(List.of("\n", "###"))
                .setMetadata(Map.of("row", "17", "table", "sky"))
                .build();
    }

    /** Only the required fields and a prompt: every other field has its default. */
    static CompletionRequest minimalRequest() {
        return CompletionRequest.newBuilder()
                .setId("req-2")
                .setPrompt("Once upon a time")
                .build();
    }

    static Completion completion() {
        return Completion.newBuilder()
                .setId("cmpl-req-1")
                .setRequestId("req-1")
                .setModel("tiny-deepseek-v3")
                .setText("Blue")
                .setIds(List.of(31, 2))
                .setFinishReason("stop")
                .setUsage(new Usage(12, 2, 14))
                .setMetadata(Map.of("row", "17"))
                .build();
    }

    static Completion completionWithTimings() {
        return Completion.newBuilder(completion())
                .setTimings(new Timings(1_700_000_000_000L, 35L, 120L))
                .build();
    }

    static DeadLetter deadLetter() {
        return DeadLetter.newBuilder()
                .setCode("UNDECODABLE")
                .setMessage("not UTF-8 text")
                .setOriginal(ByteBuffer.wrap(new byte[] {(byte) 0xC3, 0x01, (byte) 0xFF, 0x00}))
                .setOriginalKey(ByteBuffer.wrap("req-9".getBytes(StandardCharsets.UTF_8)))
                .setTopic("requests")
                .setPartition(3)
                .setOffset(1_234_567L)
                .setTimestamp(1_700_000_000_000L)
                .build();
    }

    /** A dead letter of a record that did not come from Kafka: no key, no coordinates. */
    static DeadLetter deadLetterWithoutOrigin() {
        return DeadLetter.newBuilder()
                .setCode("INVALID_FIELD")
                .setMessage("'max_tokens' must be a 32-bit integer, got \"5\"")
                .setOriginal(ByteBuffer.wrap("{\"id\":\"a\",\"max_tokens\":\"5\"}".getBytes(StandardCharsets.UTF_8)))
                .build();
    }
}
