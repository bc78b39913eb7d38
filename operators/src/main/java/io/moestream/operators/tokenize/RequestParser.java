package io.moestream.operators.tokenize;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.ModelDirectory;
import io.moestream.engine.chat.ChatMessage;
import io.moestream.operators.records.InferenceRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Turns one JSON request (DESIGN.md section 5: {@code id}, {@code prompt} or {@code messages}, {@code max_tokens},
 * {@code temperature}, {@code top_p}, {@code top_k}, {@code seed}, {@code stop}, {@code metadata}) into a validated,
 * tokenized {@link InferenceRequest}, or explains with a stable code why it cannot be served.
 */
public final class RequestParser {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");

    /** Why a request is refused: a stable code for machines and a message for people. */
    public static final class InvalidRequestException extends Exception {
        private static final long serialVersionUID = 1L;
        private final String code;

        InvalidRequestException(String code, String message) {
            super(message);
            this.code = code;
        }

        public String code() {
            return code;
        }
    }

    /** Limits a request must respect. */
    public record Limits(int defaultMaxTokens, int maxTokensCap, int maxPromptTokens, int maxRecordBytes) {}

    private final ModelDirectory model;
    private final Limits limits;
    private final int context;

    public RequestParser(ModelDirectory model, Limits limits) throws IOException {
        this.model = model;
        this.limits = limits;
        this.context = model.config().maxPositionEmbeddings();
    }

    public InferenceRequest parse(String line) throws InvalidRequestException, IOException {
        if (line.getBytes(StandardCharsets.UTF_8).length > limits.maxRecordBytes()) {
            throw new InvalidRequestException(
                    "OVERSIZE_RECORD", "the record is larger than " + limits.maxRecordBytes() + " bytes");
        }
        JsonNode root;
        try {
            root = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new InvalidRequestException("INVALID_JSON", "not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new InvalidRequestException("INVALID_JSON", "a request must be a JSON object");
        }
        InferenceRequest r = new InferenceRequest();
        r.id = requiredText(root, "id");
        if (r.id.isEmpty()) {
            throw new InvalidRequestException("INVALID_FIELD", "'id' must not be empty");
        }
        r.maxTokens = integer(root, "max_tokens", limits.defaultMaxTokens());
        if (r.maxTokens <= 0 || r.maxTokens > limits.maxTokensCap()) {
            throw new InvalidRequestException(
                    "OUT_OF_RANGE", "'max_tokens' must be in 1.." + limits.maxTokensCap() + ", got " + r.maxTokens);
        }
        r.temperature = number(root, "temperature", 1.0);
        if (r.temperature < 0) {
            throw new InvalidRequestException("OUT_OF_RANGE", "'temperature' must be >= 0, got " + r.temperature);
        }
        r.topP = number(root, "top_p", 1.0);
        if (!(r.topP > 0 && r.topP <= 1)) {
            throw new InvalidRequestException("OUT_OF_RANGE", "'top_p' must be in (0, 1], got " + r.topP);
        }
        r.topK = integer(root, "top_k", 0);
        if (r.topK < 0) {
            throw new InvalidRequestException("OUT_OF_RANGE", "'top_k' must be >= 0, got " + r.topK);
        }
        r.seed = root.hasNonNull("seed") ? longValue(root, "seed") : defaultSeed(r.id);
        r.stop = stops(root.get("stop"));
        JsonNode metadata = root.get("metadata");
        if (metadata != null && !metadata.isNull() && !metadata.isObject()) {
            throw new InvalidRequestException("INVALID_FIELD", "'metadata' must be an object");
        }
        r.metadataJson = metadata == null || metadata.isNull() ? "{}" : JSON.writeValueAsString(metadata);
        r.promptIds = prompt(root);
        int maxPrompt = Math.min(limits.maxPromptTokens(), context - 1);
        if (r.promptIds.length > maxPrompt) {
            throw new InvalidRequestException(
                    "PROMPT_TOO_LONG",
                    "the prompt has " + r.promptIds.length + " tokens; at most " + maxPrompt + " fit (model context "
                            + context + ")");
        }
        return r;
    }

    private int[] prompt(JsonNode root) throws InvalidRequestException, IOException {
        JsonNode prompt = root.get("prompt");
        JsonNode messages = root.get("messages");
        boolean hasPrompt = prompt != null && !prompt.isNull();
        boolean hasMessages = messages != null && !messages.isNull();
        if (hasPrompt == hasMessages) {
            throw new InvalidRequestException(
                    hasPrompt ? "INVALID_FIELD" : "MISSING_FIELD",
                    "a request needs exactly one of 'prompt' and 'messages'");
        }
        if (hasPrompt) {
            if (!prompt.isTextual()) {
                throw new InvalidRequestException("INVALID_FIELD", "'prompt' must be a string");
            }
            if (prompt.asText().isEmpty()) {
                throw new InvalidRequestException("EMPTY_PROMPT", "'prompt' is empty");
            }
            return model.encodeText(prompt.asText());
        }
        if (!messages.isArray() || messages.isEmpty()) {
            throw new InvalidRequestException(
                    messages.isArray() ? "EMPTY_PROMPT" : "INVALID_FIELD", "'messages' must be a non-empty array");
        }
        List<ChatMessage> chat = new ArrayList<>();
        for (JsonNode m : messages) {
            if (!m.isObject()
                    || !m.path("role").isTextual()
                    || !m.path("content").isTextual()) {
                throw new InvalidRequestException(
                        "INVALID_FIELD", "each message must be an object with string 'role' and 'content'");
            }
            String role = m.get("role").asText();
            if (!ROLES.contains(role)) {
                throw new InvalidRequestException(
                        "UNKNOWN_ROLE", "unknown chat role '" + role + "' (known: system, user, assistant, tool)");
            }
            chat.add(new ChatMessage(role, m.get("content").asText()));
        }
        return model.encodeChat(chat);
    }

    /** The default seed: a stable 64-bit hash (FNV-1a) of the request id, the same in every JVM. */
    static long defaultSeed(String id) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
            hash ^= b & 0xFF;
            hash *= 0x100000001b3L;
        }
        return hash;
    }

    private static String[] stops(JsonNode stop) throws InvalidRequestException {
        if (stop == null || stop.isNull()) {
            return new String[0];
        }
        List<String> stops = new ArrayList<>();
        for (JsonNode s : stop.isArray() ? stop : JSON.createArrayNode().add(stop)) {
            if (!s.isTextual() || s.asText().isEmpty()) {
                throw new InvalidRequestException(
                        "INVALID_FIELD", "'stop' must be a non-empty string or a list of them");
            }
            stops.add(s.asText());
        }
        return stops.toArray(String[]::new);
    }

    private static String requiredText(JsonNode root, String field) throws InvalidRequestException {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            throw new InvalidRequestException("MISSING_FIELD", "missing '" + field + "'");
        }
        if (!v.isTextual()) {
            throw new InvalidRequestException("INVALID_FIELD", "'" + field + "' must be a string");
        }
        return v.asText();
    }

    private static int integer(JsonNode root, String field, int fallback) throws InvalidRequestException {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new InvalidRequestException("INVALID_FIELD", "'" + field + "' must be an integer, got " + v);
        }
        return v.asInt();
    }

    private static long longValue(JsonNode root, String field) throws InvalidRequestException {
        JsonNode v = root.get(field);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw new InvalidRequestException("INVALID_FIELD", "'" + field + "' must be an integer, got " + v);
        }
        return v.asLong();
    }

    private static double number(JsonNode root, String field, double fallback) throws InvalidRequestException {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isNumber()) {
            throw new InvalidRequestException("INVALID_FIELD", "'" + field + "' must be a number, got " + v);
        }
        return v.asDouble();
    }
}
