package io.moestream.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.ModelDirectory;
import io.moestream.operators.records.InferenceRequest;
import io.moestream.operators.tokenize.RequestParser;
import io.moestream.schemas.WireFormat;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Prompts given as token ids: fed as they are, checked against the vocabulary, exclusive with prompt and messages. */
class RequestParserTest {
    @TempDir
    static Path temp;

    static RequestParser parser;
    static int vocab;

    @BeforeAll
    static void open() throws Exception {
        ModelDirectory model = ModelDirectory.of(JobFixtures.tinyModel(temp.resolve("tiny")));
        vocab = model.config().vocabSize();
        parser = new RequestParser(model, WireFormat.JSON, new RequestParser.Limits(128, 4096, 8192, 1 << 20));
    }

    @Test
    void promptIdsAreTheRequestsPromptAndIgnoreEosIsKept() throws Exception {
        InferenceRequest r = parser.parse("{\"id\": \"r\", \"prompt_ids\": [0, 5, " + (vocab - 1)
                + "], \"max_tokens\": 4, \"ignore_eos\": true, \"temperature\": 0}");
        assertArrayEquals(new int[] {0, 5, vocab - 1}, r.promptIds);
        assertTrue(r.ignoreEos);
        assertEquals(4, r.maxTokens);
        assertFalse(parser.parse("{\"id\": \"r\", \"prompt_ids\": [3]}").ignoreEos);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            {"id": "r", "prompt_ids": []}                          | EMPTY_PROMPT
            {"id": "r", "prompt_ids": [1, -1]}                     | OUT_OF_RANGE
            {"id": "r", "prompt_ids": [99999999]}                  | OUT_OF_RANGE
            {"id": "r", "prompt_ids": [1], "prompt": "hi"}         | INVALID_FIELD
            {"id": "r"}                                            | MISSING_FIELD
            """)
    void badPromptIdsAreRefusedWithACode(String json, String code) {
        RequestParser.InvalidRequestException e =
                assertThrows(RequestParser.InvalidRequestException.class, () -> parser.parse(json));
        assertEquals(code, e.code(), e.getMessage());
    }
}
