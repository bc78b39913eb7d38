package io.moestream.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTest {
    private final Tokenizer tokenizer = TokenizerFixtures.deepSeekV3();

    @Test
    void knowsDeepSeekV3sVocabularyAndSpecialTokens() {
        assertEquals(128_815, tokenizer.vocabSize());
        assertEquals(OptionalInt.of(0), tokenizer.bosTokenId());
        assertEquals(OptionalInt.of(1), tokenizer.eosTokenId());
        assertEquals(OptionalInt.of(128_803), tokenizer.tokenToId("<｜User｜>"));
        assertEquals("<｜Assistant｜>", tokenizer.idToToken(128_804));
        assertEquals(OptionalInt.of(223), tokenizer.tokenToId("Ġ"));
        assertEquals(OptionalInt.empty(), tokenizer.tokenToId("no such token"));
        assertNull(tokenizer.idToToken(128_815));
        assertNull(tokenizer.idToToken(-1));
        assertTrue(tokenizer.isSpecialToken(0));
        assertTrue(!tokenizer.isSpecialToken(128_803));
    }

    @Test
    void matchesSpecialTokensInsideText() {
        assertArrayEquals(new int[] {128_803, 6366, 128_804}, tokenizer.encode("<｜User｜>hi<｜Assistant｜>"));
        assertArrayEquals(new int[0], tokenizer.encode(""));
    }

    @Test
    void encodesUnpairedSurrogatesAsReplacementCharacters() {
        assertArrayEquals(tokenizer.encode("a\uFFFDb\uFFFD"), tokenizer.encode("a\uD800b\uDC00"));
    }

    @Test
    void loadsTheCopiedFilesFromAModelDirectory(@TempDir Path dir) throws IOException {
        BundledTokenizers.copyDeepSeekV3To(dir);

        Tokenizer loaded = Tokenizer.load(dir);

        assertEquals(tokenizer.vocabSize(), loaded.vocabSize());
        assertEquals(tokenizer.bosTokenId(), loaded.bosTokenId());
        assertArrayEquals(tokenizer.encode("Hello 世界 🫠"), loaded.encode("Hello 世界 🫠"));
    }

    @Test
    void namesTheMissingFile(@TempDir Path dir) {
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Tokenizer.load(dir));

        assertTrue(e.getMessage().contains(dir.resolve("tokenizer.json").toString()), e.getMessage());
    }

    @Test
    void namesTheFileThatIsNotJson(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": ");

        IOException e = assertThrows(IOException.class, () -> Tokenizer.load(dir));

        assertTrue(e.getMessage().contains(dir.resolve("tokenizer.json") + " is not valid JSON"), e.getMessage());
    }

    @Test
    void rejectsWhatItCannotReproduceExactly() {
        assertRejected("{\"normalizer\": {\"type\": \"NFC\"}}", "unsupported normalizer type 'NFC'");
        assertRejected("{\"decoder\": {\"type\": \"WordPiece\"}}", "unsupported decoder type 'WordPiece'");
        assertRejected(
                "{\"decoder\": {\"type\": \"ByteLevel\"}, \"pre_tokenizer\": {\"type\": \"Whitespace\"}}",
                "unsupported pre_tokenizer type 'Whitespace'");
        assertRejected(
                "{\"decoder\": {\"type\": \"ByteLevel\"}, \"pre_tokenizer\": {\"type\": \"Split\", \"pattern\":"
                        + " {\"Regex\": \"\\\\w+\"}, \"behavior\": \"Isolated\"}}",
                "unsupported in regex /\\w+/");
        assertRejected(
                "{\"decoder\": {\"type\": \"ByteLevel\"}, \"pre_tokenizer\": {\"type\": \"ByteLevel\","
                        + " \"add_prefix_space\": true}}",
                "add_prefix_space=true is not supported");
        assertRejected(
                "{\"decoder\": {\"type\": \"ByteLevel\"}, \"pre_tokenizer\": {\"type\": \"ByteLevel\","
                        + " \"add_prefix_space\": false}, \"model\": {\"type\": \"WordPiece\"}}",
                "unsupported BPE model.type");
    }

    private static void assertRejected(String tokenizerJson, String expectedMessagePart) {
        InputStream in = new ByteArrayInputStream(tokenizerJson.getBytes(StandardCharsets.UTF_8));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.fromJson(in, null));

        assertTrue(e.getMessage().startsWith("tokenizer.json: "), e.getMessage());
        assertTrue(e.getMessage().contains(expectedMessagePart), e.getMessage());
    }
}
