package io.moestream.operators.tokenize;

import io.moestream.engine.ModelDirectory;
import io.moestream.engine.chat.ChatMessage;
import io.moestream.operators.records.InferenceRequest;
import io.moestream.operators.records.RawRecord;
import io.moestream.schemas.DecodeException;
import io.moestream.schemas.RequestCodec;
import io.moestream.schemas.WireFormat;
import io.moestream.schemas.avro.CompletionRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.avro.Schema;

/**
 * Turns one request record (Avro single-object encoding or JSON, DESIGN.md section 5) into a validated, tokenized
 * {@link InferenceRequest}, or explains with a stable code why it cannot be served. Decoding and field types are
 * the codec's job; ranges, the prompt and the chat roles are checked here.
 */
public final class RequestParser {
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
    private final RequestCodec codec;
    private final Limits limits;
    private final int context;
    private final int vocab;

    public RequestParser(ModelDirectory model, WireFormat format, Limits limits) throws IOException {
        this(model, format, List.of(), limits);
    }

    /** @param olderWriterSchemas older CompletionRequest schemas whose records are resolved to the current one */
    public RequestParser(ModelDirectory model, WireFormat format, List<Schema> olderWriterSchemas, Limits limits)
            throws IOException {
        this.model = model;
        this.codec = RequestCodec.create(format, olderWriterSchemas);
        this.limits = limits;
        this.context = model.config().maxPositionEmbeddings();
        this.vocab = model.config().vocabSize();
    }

    /** Parses one JSON Lines request (the file job's input). */
    public InferenceRequest parse(String line) throws InvalidRequestException, IOException {
        return parse(new RawRecord(null, line.getBytes(StandardCharsets.UTF_8), null, -1, -1, 0));
    }

    public InferenceRequest parse(RawRecord record) throws InvalidRequestException, IOException {
        if (record.value == null || record.value.length > limits.maxRecordBytes()) {
            throw new InvalidRequestException(
                    "OVERSIZE_RECORD",
                    record.value == null
                            ? "the record has no value"
                            : "the record has " + record.value.length + " bytes, more than the limit of "
                                    + limits.maxRecordBytes());
        }
        CompletionRequest decoded;
        try {
            decoded = codec.decode(record.value);
        } catch (DecodeException e) {
            throw new InvalidRequestException(e.code().name(), e.getMessage());
        }
        InferenceRequest r = validate(decoded);
        r.source = record;
        return r;
    }

    private InferenceRequest validate(CompletionRequest in) throws InvalidRequestException, IOException {
        InferenceRequest r = new InferenceRequest();
        r.id = in.getId();
        if (r.id.isEmpty()) {
            throw new InvalidRequestException("INVALID_FIELD", "'id' must not be empty");
        }
        r.maxTokens = in.getMaxTokens() == null ? limits.defaultMaxTokens() : in.getMaxTokens();
        if (r.maxTokens <= 0 || r.maxTokens > limits.maxTokensCap()) {
            throw new InvalidRequestException(
                    "OUT_OF_RANGE", "'max_tokens' must be in 1.." + limits.maxTokensCap() + ", got " + r.maxTokens);
        }
        r.temperature = in.getTemperature() == null ? 1.0 : in.getTemperature();
        if (!(r.temperature >= 0) || Double.isInfinite(r.temperature)) {
            throw new InvalidRequestException("OUT_OF_RANGE", "'temperature' must be >= 0, got " + r.temperature);
        }
        r.topP = in.getTopP() == null ? 1.0 : in.getTopP();
        if (!(r.topP > 0 && r.topP <= 1)) {
            throw new InvalidRequestException("OUT_OF_RANGE", "'top_p' must be in (0, 1], got " + r.topP);
        }
        r.topK = in.getTopK() == null ? 0 : in.getTopK();
        if (r.topK < 0) {
            throw new InvalidRequestException("OUT_OF_RANGE", "'top_k' must be >= 0, got " + r.topK);
        }
        r.seed = in.getSeed() != null ? in.getSeed() : defaultSeed(r.id);
        for (String stop : in.getStop()) {
            if (stop.isEmpty()) {
                throw new InvalidRequestException("INVALID_FIELD", "'stop' strings must not be empty");
            }
        }
        r.stop = in.getStop().toArray(String[]::new);
        Map<String, String> metadata = new TreeMap<>(in.getMetadata());
        r.metadataKeys = metadata.keySet().toArray(String[]::new);
        r.metadataValues = metadata.values().toArray(String[]::new);
        r.promptIds = prompt(in);
        r.ignoreEos = Boolean.TRUE.equals(in.getIgnoreEos());
        int maxPrompt = Math.min(limits.maxPromptTokens(), context - 1);
        if (r.promptIds.length > maxPrompt) {
            throw new InvalidRequestException(
                    "PROMPT_TOO_LONG",
                    "the prompt has " + r.promptIds.length + " tokens; at most " + maxPrompt + " fit (model context "
                            + context + ")");
        }
        return r;
    }

    private int[] prompt(CompletionRequest in) throws InvalidRequestException, IOException {
        boolean hasPrompt = in.getPrompt() != null;
        boolean hasMessages = in.getMessages() != null;
        boolean hasIds = in.getPromptIds() != null;
        int given = (hasPrompt ? 1 : 0) + (hasMessages ? 1 : 0) + (hasIds ? 1 : 0);
        if (given != 1) {
            throw new InvalidRequestException(
                    given > 1 ? "INVALID_FIELD" : "MISSING_FIELD",
                    "a request needs exactly one of 'prompt', 'messages' and 'prompt_ids'");
        }
        if (hasIds) {
            return promptIds(in.getPromptIds());
        }
        if (hasPrompt) {
            if (in.getPrompt().isEmpty()) {
                throw new InvalidRequestException("EMPTY_PROMPT", "'prompt' is empty");
            }
            return model.encodeText(in.getPrompt());
        }
        if (in.getMessages().isEmpty()) {
            throw new InvalidRequestException("EMPTY_PROMPT", "'messages' is empty");
        }
        List<ChatMessage> chat = new ArrayList<>();
        for (io.moestream.schemas.avro.ChatMessage m : in.getMessages()) {
            if (!ROLES.contains(m.getRole())) {
                throw new InvalidRequestException(
                        "UNKNOWN_ROLE",
                        "unknown chat role '" + m.getRole() + "' (known: system, user, assistant, tool)");
            }
            chat.add(new ChatMessage(m.getRole(), m.getContent()));
        }
        return model.encodeChat(chat);
    }

    private int[] promptIds(List<Integer> ids) throws InvalidRequestException {
        if (ids.isEmpty()) {
            throw new InvalidRequestException("EMPTY_PROMPT", "'prompt_ids' is empty");
        }
        int[] prompt = new int[ids.size()];
        for (int i = 0; i < prompt.length; i++) {
            int id = ids.get(i);
            if (id < 0 || id >= vocab) {
                throw new InvalidRequestException(
                        "OUT_OF_RANGE",
                        "'prompt_ids[" + i + "]' must be a token id in 0.." + (vocab - 1) + ", got " + id);
            }
            prompt[i] = id;
        }
        return prompt;
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
}
