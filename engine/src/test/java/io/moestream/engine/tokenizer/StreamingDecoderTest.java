package io.moestream.engine.tokenizer;

import static io.moestream.engine.tokenizer.TokenizerFixtures.ints;
import static io.moestream.engine.tokenizer.TokenizerFixtures.visible;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class StreamingDecoderTest {
    private final Tokenizer tokenizer = TokenizerFixtures.deepSeekV3();

    @Test
    void holdsBackACjkCharacterUntilAllItsByteTokensArrived() {
        // "中" is E4 B8 AD: as single-byte tokens the first two complete nothing.
        int[] ids = {byteToken(0xE4), byteToken(0xB8), byteToken(0xAD), byteToken('!')};
        StreamingDecoder decoder = tokenizer.newStreamingDecoder();

        assertEquals(List.of("", "", "中", "!"), pushAll(decoder, ids));
        assertEquals("", decoder.flush());
    }

    @Test
    void emitsAZwjEmojiSequenceWithoutBrokenCharacters() {
        String family = "👨‍👩‍👧‍👦 and 🇯🇵 and 🫠";
        int[] ids = tokenizer.encode(family);
        StreamingDecoder decoder = tokenizer.newStreamingDecoder();

        List<String> pieces = pushAll(decoder, ids);

        assertEquals(family, String.join("", pieces) + decoder.flush());
        assertTrue(pieces.contains(""), "some emoji bytes span several tokens: " + pieces);
        for (String piece : pieces) {
            assertFalse(piece.contains("\uFFFD"), piece);
            assertFalse(!piece.isEmpty() && Character.isHighSurrogate(piece.charAt(piece.length() - 1)), piece);
        }
    }

    @Test
    void streamsEveryCorpusStringLikeDecodeAndNeverEmitsReplacementsForValidText() {
        List<String> mismatches = new ArrayList<>();
        for (JsonNode row : TokenizerFixtures.readJsonLines("/tokenizer/parity.jsonl")) {
            if (!row.get("kind").asText().equals("encode")) {
                continue;
            }
            String text = row.get("text").asText();
            int[] ids = ints(row.get("ids"));
            StreamingDecoder decoder = tokenizer.newStreamingDecoder();
            List<String> pieces = pushAll(decoder, ids);
            String streamed = String.join("", pieces) + decoder.flush();
            if (!streamed.equals(tokenizer.decode(ids))) {
                mismatches.add("\"" + visible(text) + "\" streamed as \"" + visible(streamed) + "\"");
            }
            if (!text.contains("\uFFFD") && pieces.stream().anyMatch(piece -> piece.contains("\uFFFD"))) {
                mismatches.add("\"" + visible(text) + "\" streamed a U+FFFD: " + pieces);
            }
        }
        assertTrue(mismatches.isEmpty(), String.join("\n", mismatches));
    }

    @Test
    void streamsArbitraryIdsIncludingInvalidUtf8LikeDecode() {
        List<String> mismatches = new ArrayList<>();
        for (JsonNode row : TokenizerFixtures.readJsonLines("/tokenizer/parity.jsonl")) {
            if (!row.get("kind").asText().equals("decode")) {
                continue;
            }
            int[] ids = ints(row.get("ids"));
            boolean skip = row.get("skip_special_tokens").asBoolean();
            StreamingDecoder decoder = tokenizer.newStreamingDecoder(skip);
            String streamed = String.join("", pushAll(decoder, ids)) + decoder.flush();
            if (!streamed.equals(row.get("text").asText())) {
                mismatches.add(Arrays.toString(ids) + " skip=" + skip + " streamed as \"" + visible(streamed) + "\"");
            }
        }
        assertTrue(mismatches.isEmpty(), String.join("\n", mismatches));
    }

    @Test
    void flushReplacesAnIncompleteCharacterAndStartsAFreshSequence() {
        StreamingDecoder decoder = tokenizer.newStreamingDecoder();

        assertEquals("", decoder.push(byteToken(0xE4)));
        assertEquals("\uFFFD", decoder.flush());
        assertEquals("a", decoder.push(byteToken('a')));
        assertEquals("", decoder.flush());
    }

    @Test
    void replacesBytesThatCanNeverBecomeACharacterAtOnce() {
        StreamingDecoder decoder = tokenizer.newStreamingDecoder();

        assertEquals("", decoder.push(byteToken(0xE4)));
        assertEquals("\uFFFDa", decoder.push(byteToken('a')));
        assertEquals("\uFFFD", decoder.push(byteToken(0xFF)));
    }

    @Test
    void skipsSpecialTokensWhenAsked() {
        int bos = tokenizer.bosTokenId().orElseThrow();
        int user = tokenizer.tokenToId("<｜User｜>").orElseThrow();

        assertEquals("", tokenizer.newStreamingDecoder(true).push(bos));
        assertEquals("<｜begin▁of▁sentence｜>", tokenizer.newStreamingDecoder().push(bos));
        assertEquals("<｜User｜>", tokenizer.newStreamingDecoder(true).push(user), "User is not special");
    }

    private int byteToken(int unsignedByte) {
        return tokenizer
                .tokenToId(String.valueOf(ByteLevel.charOf(unsignedByte)))
                .orElseThrow();
    }

    private static List<String> pushAll(StreamingDecoder decoder, int[] ids) {
        List<String> pieces = new ArrayList<>();
        for (int id : ids) {
            pieces.add(decoder.push(id));
        }
        return pieces;
    }
}
