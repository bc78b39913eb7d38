package io.moestream.engine.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a model's {@code tokenizer_config.json} says about special tokens and the chat template.
 *
 * @param specialTokens the named special tokens that are set ({@code bos_token}, {@code eos_token},
 *     ...), by attribute name, as transformers hands them to chat templates
 * @param chatTemplate the Jinja chat template, if any
 */
public record TokenizerConfig(Map<String, String> specialTokens, Optional<String> chatTemplate) {
    public static final String FILE_NAME = "tokenizer_config.json";

    /** The special-token attributes of transformers' tokenizers (SPECIAL_TOKENS_ATTRIBUTES). */
    private static final List<String> SPECIAL_TOKEN_ATTRIBUTES =
            List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token");

    private static final ObjectMapper JSON = new ObjectMapper();

    public TokenizerConfig {
        specialTokens = Map.copyOf(specialTokens);
    }

    /** Reads {@code modelDir/tokenizer_config.json}. */
    public static TokenizerConfig load(Path modelDir) throws IOException {
        Path file = modelDir.resolve(FILE_NAME);
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        }
    }

    /**
     * @param source names the file in error messages
     * @throws IOException if the JSON cannot be read or a field has the wrong shape
     */
    public static TokenizerConfig read(InputStream json, String source) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IOException(source + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException(source + " does not hold a JSON object");
        }
        Map<String, String> specialTokens = new LinkedHashMap<>();
        for (String attribute : SPECIAL_TOKEN_ATTRIBUTES) {
            JsonNode value = root.path(attribute);
            // A special token is written as a string or as a serialized AddedToken {"content": ...}.
            JsonNode content = value.isObject() ? value.path("content") : value;
            if (content.isTextual()) {
                specialTokens.put(attribute, content.asText());
            } else if (!content.isMissingNode() && !content.isNull()) {
                throw new IOException(source + ": " + attribute + " is neither a string nor an AddedToken: " + value);
            }
        }
        return new TokenizerConfig(specialTokens, chatTemplate(root.path("chat_template"), source));
    }

    public Optional<String> bosToken() {
        return Optional.ofNullable(specialTokens.get("bos_token"));
    }

    public Optional<String> eosToken() {
        return Optional.ofNullable(specialTokens.get("eos_token"));
    }

    /** The template is a string, or a list of named templates of which transformers uses "default". */
    private static Optional<String> chatTemplate(JsonNode node, String source) throws IOException {
        if (node.isMissingNode() || node.isNull()) {
            return Optional.empty();
        }
        if (node.isTextual()) {
            return Optional.of(node.asText());
        }
        for (JsonNode named : node) {
            if ("default".equals(named.path("name").asText())
                    && named.path("template").isTextual()) {
                return Optional.of(named.get("template").asText());
            }
        }
        throw new IOException(source + ": chat_template is neither a string nor a list with a \"default\" template");
    }
}
