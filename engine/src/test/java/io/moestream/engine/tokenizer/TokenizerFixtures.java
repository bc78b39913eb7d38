package io.moestream.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Test data: the bundled DeepSeek-V3 tokenizer (read once per JVM) and the JSON Lines fixtures. */
final class TokenizerFixtures {
    static final ObjectMapper JSON = new ObjectMapper();

    private static Tokenizer deepSeekV3;

    private TokenizerFixtures() {}

    static synchronized Tokenizer deepSeekV3() {
        if (deepSeekV3 == null) {
            try {
                deepSeekV3 = BundledTokenizers.deepSeekV3();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return deepSeekV3;
    }

    /** Reads a JSON Lines classpath resource, e.g. "/tokenizer/parity.jsonl". */
    static List<JsonNode> readJsonLines(String resource) {
        try (InputStream in = TokenizerFixtures.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + resource);
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            List<JsonNode> rows = new ArrayList<>();
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                rows.add(JSON.readTree(line));
            }
            return rows;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] ints(JsonNode array) {
        int[] values = new int[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i).asInt();
        }
        return values;
    }

    /** The text with control and invisible characters shown as escapes, for failure messages. */
    static String visible(String text) {
        StringBuilder out = new StringBuilder();
        text.codePoints().limit(120).forEach(cp -> {
            boolean invisible = cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || Character.getType(cp) == Character.FORMAT;
            if (invisible || (Character.isSpaceChar(cp) && cp != ' ')) {
                out.append(String.format("\\u%04X", cp));
            } else {
                out.appendCodePoint(cp);
            }
        });
        return text.codePointCount(0, text.length()) > 120 ? out + "…" : out.toString();
    }
}
