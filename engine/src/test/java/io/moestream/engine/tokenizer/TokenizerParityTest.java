package io.moestream.engine.tokenizer;

import static io.moestream.engine.tokenizer.TokenizerFixtures.ints;
import static io.moestream.engine.tokenizer.TokenizerFixtures.visible;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Exact parity with HF {@code tokenizers} 0.23.2 on fixtures it produced (see
 * src/test/resources/tokenizer/README.md). Every mismatch is reported, not just the first.
 */
class TokenizerParityTest {
    private static final int MIN_CORPUS_STRINGS = 300;

    @Test
    void encodesAndDecodesTheCorpusLikeHf() {
        Tokenizer tokenizer = TokenizerFixtures.deepSeekV3();
        List<String> mismatches = new ArrayList<>();
        int encodeCases = 0;
        int decodeCases = 0;
        for (JsonNode row : TokenizerFixtures.readJsonLines("/tokenizer/parity.jsonl")) {
            if (row.get("kind").asText().equals("encode")) {
                encodeCases++;
                String text = row.get("text").asText();
                int[] expected = ints(row.get("ids"));
                int[] actual = tokenizer.encode(text);
                if (!Arrays.equals(expected, actual)) {
                    mismatches.add("encode \"" + visible(text) + "\": expected " + Arrays.toString(expected)
                            + " but was " + Arrays.toString(actual));
                }
                String decoded = tokenizer.decode(expected);
                if (!decoded.equals(row.get("decoded").asText())) {
                    mismatches.add("decode of encode \"" + visible(text) + "\": was \"" + visible(decoded) + "\"");
                }
            } else {
                decodeCases++;
                int[] ids = ints(row.get("ids"));
                boolean skip = row.get("skip_special_tokens").asBoolean();
                String expected = row.get("text").asText();
                String actual = tokenizer.decode(ids, skip);
                if (!expected.equals(actual)) {
                    mismatches.add("decode " + Arrays.toString(ids) + " skip=" + skip + ": expected \""
                            + visible(expected) + "\" but was \"" + visible(actual) + "\"");
                }
            }
        }
        assertTrue(encodeCases >= MIN_CORPUS_STRINGS, "corpus too small: " + encodeCases);
        assertTrue(decodeCases > 0, "no decode cases");
        assertNoMismatches(mismatches, encodeCases + decodeCases);
    }

    @Test
    void honoursAddedTokenOptionsLikeHf() throws IOException {
        List<JsonNode> rows = TokenizerFixtures.readJsonLines("/tokenizer/added_token_options.jsonl");
        Tokenizer tokenizer = withExtraAddedTokens(rows.get(0).get("added_tokens"));
        List<String> mismatches = new ArrayList<>();
        for (JsonNode row : rows.subList(1, rows.size())) {
            String text = row.get("text").asText();
            int[] expected = ints(row.get("ids"));
            int[] actual = tokenizer.encode(text);
            if (!Arrays.equals(expected, actual)) {
                mismatches.add("encode \"" + visible(text) + "\": expected " + Arrays.toString(expected) + " but was "
                        + Arrays.toString(actual));
            }
        }
        assertNoMismatches(mismatches, rows.size() - 1);
    }

    @Test
    void splitsLikeHfWithOtherPreTokenizers() {
        List<JsonNode> rows = TokenizerFixtures.readJsonLines("/tokenizer/pre_tokenizer_splits.jsonl");
        List<String> mismatches = new ArrayList<>();
        for (JsonNode row : rows) {
            PreTokenizer preTokenizer = PreTokenizer.fromJson(row.get("pre_tokenizer"));
            String text = row.get("text").asText();
            IntList bounds = new IntList(16);
            preTokenizer.split(UnicodeCategoryBridge.forRegex(text), 0, text.length(), bounds);
            List<String> actual = new ArrayList<>();
            for (int i = 0; i < bounds.size(); i += 2) {
                actual.add(ByteLevel.encode(text.substring(bounds.get(i), bounds.get(i + 1))));
            }
            List<String> expected = new ArrayList<>();
            row.get("pieces").forEach(piece -> expected.add(piece.asText()));
            if (!expected.equals(actual)) {
                mismatches.add(row.get("pre_tokenizer") + " on \"" + visible(text) + "\": expected " + expected
                        + " but was " + actual);
            }
        }
        assertNoMismatches(mismatches, rows.size());
    }

    /** DeepSeek-V3's tokenizer.json with more entries in added_tokens. */
    private static Tokenizer withExtraAddedTokens(JsonNode extraTokens) throws IOException {
        JsonNode root;
        try (InputStream in = BundledTokenizers.class.getResourceAsStream("deepseek_v3/tokenizer.json")) {
            root = TokenizerFixtures.JSON.readTree(in);
        }
        ((ArrayNode) root.get("added_tokens")).addAll((ArrayNode) extraTokens);
        return Tokenizer.fromJson(new ByteArrayInputStream(TokenizerFixtures.JSON.writeValueAsBytes(root)), null);
    }

    private static void assertNoMismatches(List<String> mismatches, int cases) {
        assertTrue(
                mismatches.isEmpty(),
                () -> mismatches.size() + " of " + cases + " cases differ from HF:\n" + String.join("\n", mismatches));
    }
}
