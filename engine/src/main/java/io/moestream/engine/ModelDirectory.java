package io.moestream.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.chat.ChatMessage;
import io.moestream.engine.chat.ChatTemplate;
import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.tokenizer.Tokenizer;
import io.moestream.engine.tokenizer.TokenizerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A Hugging Face model directory, as everything but the weights reads it: {@code config.json}, the end-of-sequence
 * ids of {@code generation_config.json}, and the optional tokenizer files with the rules for turning a prompt into
 * ids (a checkpoint without them runs on token ids). The launcher and the Flink job's Tokenize and Scheduler share
 * it, so a prompt becomes the same ids everywhere.
 */
public final class ModelDirectory {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GENERATION_CONFIG = "generation_config.json";

    private final Path path;
    private ModelConfig config;
    private Tokenizer tokenizer;
    private ChatTemplate chatTemplate;

    private ModelDirectory(Path path) {
        this.path = path;
    }

    /** Checks that {@code path} is a directory; reads nothing yet. */
    public static ModelDirectory of(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new IOException("model directory " + path + " does not exist");
        }
        if (!Files.isDirectory(path)) {
            throw new IOException("model directory " + path + " is not a directory");
        }
        return new ModelDirectory(path);
    }

    public Path path() {
        return path;
    }

    public synchronized ModelConfig config() throws IOException {
        if (config == null) {
            config = ModelConfig.load(path);
        }
        return config;
    }

    public boolean hasTokenizer() {
        return Files.isRegularFile(path.resolve(Tokenizer.FILE_NAME));
    }

    /** The tokenizer, loaded once. */
    public synchronized Tokenizer tokenizer() throws IOException {
        if (tokenizer == null) {
            tokenizer = Tokenizer.load(path);
        }
        return tokenizer;
    }

    /** The tokenizer when the directory has one. */
    public Optional<Tokenizer> optionalTokenizer() throws IOException {
        return hasTokenizer() ? Optional.of(tokenizer()) : Optional.empty();
    }

    /** The chat template of tokenizer_config.json, loaded once. */
    public synchronized ChatTemplate chatTemplate() throws IOException {
        if (chatTemplate == null) {
            chatTemplate = ChatTemplate.load(path);
        }
        return chatTemplate;
    }

    /**
     * The ids that end generation: {@code eos_token_id} of generation_config.json (one id or a list) when it has one,
     * as transformers' {@code generate} takes them, else config.json's.
     */
    public Set<Integer> eosTokenIds() throws IOException {
        JsonNode eos = readJson(GENERATION_CONFIG).path("eos_token_id");
        if (eos.isMissingNode() || eos.isNull()) {
            return Set.copyOf(config().eosTokenIds());
        }
        Set<Integer> ids = new LinkedHashSet<>();
        for (JsonNode id : eos.isArray() ? eos : JSON.createArrayNode().add(eos)) {
            if (!id.canConvertToInt() || !id.isIntegralNumber()) {
                throw new IOException(path.resolve(GENERATION_CONFIG) + ": eos_token_id must be an integer or a list "
                        + "of integers, got " + eos);
            }
            ids.add(id.asInt());
        }
        return ids;
    }

    /**
     * Whether encoding raw text starts with BOS, as transformers' {@code tokenizer(text)} does: tokenizer_config.json's
     * {@code add_bos_token} (true for DeepSeek-V3, whose LlamaTokenizerFast rebuilds its post-processor from it).
     */
    public boolean addsBosToken() throws IOException {
        return readJson(TokenizerConfig.FILE_NAME).path("add_bos_token").asBoolean(false);
    }

    /** The BOS id: tokenizer_config.json's {@code bos_token}, else config.json's {@code bos_token_id}. */
    public int bosTokenId() throws IOException {
        Tokenizer t = tokenizer();
        return t.bosTokenId().isPresent() ? t.bosTokenId().getAsInt() : config().bosTokenId();
    }

    /** A raw text prompt as transformers' {@code tokenizer(text)} encodes it: BOS when configured, then the text. */
    public int[] encodeText(String text) throws IOException {
        int[] ids = tokenizer().encode(text);
        if (!addsBosToken()) {
            return ids;
        }
        int[] withBos = new int[ids.length + 1];
        withBos[0] = bosTokenId();
        System.arraycopy(ids, 0, withBos, 1, ids.length);
        return withBos;
    }

    /**
     * A conversation as {@code apply_chat_template(messages, add_generation_prompt=True)} encodes it: the template
     * writes the BOS itself.
     */
    public int[] encodeChat(List<ChatMessage> messages) throws IOException {
        return tokenizer().encode(chatTemplate().render(messages, true));
    }

    /** The JSON object of an optional file of the directory; an empty object when the file is absent. */
    private JsonNode readJson(String name) throws IOException {
        Path file = path.resolve(name);
        if (!Files.isRegularFile(file)) {
            return JSON.createObjectNode();
        }
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + " is not valid JSON: " + e.getMessage(), e);
        }
    }
}
