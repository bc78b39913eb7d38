package io.moestream.engine.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A model's tokenizer, read from its Hugging Face {@code tokenizer.json}, that gives the same ids
 * and text as HF {@code tokenizers} ({@code encode(text, add_special_tokens=False)} and {@code
 * decode}).
 *
 * <p>Supported are byte-level BPE tokenizers as DeepSeek, Llama 3 and GPT-2 publish them:
 * added tokens, no normalizer, a pre-tokenizer of regex {@code Split}s ending with {@code
 * ByteLevel}, a {@code BPE} model and the {@code ByteLevel} decoder. Other files are rejected with an
 * {@link IllegalArgumentException} naming the file and the unsupported part. The post-processor is
 * not applied: {@link #encode} adds no BOS/EOS (DeepSeek's chat template writes the BOS itself).
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class Tokenizer {
    public static final String FILE_NAME = "tokenizer.json";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] NO_BYTES = new byte[0];

    private final AddedTokens addedTokens;
    private final PreTokenizer preTokenizer;
    private final BytePairEncoding model;
    /** By id: the token string, or null for ids without a token. */
    private final String[] tokens;
    /** By id: the bytes the token decodes to. */
    private final byte[][] tokenBytes;

    private final BitSet specialIds = new BitSet();
    private final int vocabSize;
    private final OptionalInt bosTokenId;
    private final OptionalInt eosTokenId;

    private Tokenizer(JsonNode root, Optional<TokenizerConfig> config) {
        requireNoNormalizer(root.path("normalizer"));
        String decoder = root.path("decoder").path("type").asText("null");
        if (!decoder.equals("ByteLevel")) {
            throw new IllegalArgumentException(
                    "unsupported decoder type '" + decoder + "' (only ByteLevel is supported)");
        }
        preTokenizer = PreTokenizer.fromJson(root.path("pre_tokenizer"));
        model = BytePairEncoding.fromJson(root.path("model"));
        addedTokens = AddedTokens.fromJson(root.path("added_tokens"));

        int maxId = -1;
        for (int id : model.vocab().values()) {
            maxId = Math.max(maxId, id);
        }
        for (AddedTokens.AddedToken token : addedTokens.all()) {
            maxId = Math.max(maxId, token.id());
        }
        tokens = new String[maxId + 1];
        for (Map.Entry<String, Integer> entry : model.vocab().entrySet()) {
            tokens[entry.getValue()] = entry.getKey();
        }
        for (AddedTokens.AddedToken token : addedTokens.all()) {
            tokens[token.id()] = token.content(); // an added token wins over the model's, as in HF
            specialIds.set(token.id(), token.special());
        }
        tokenBytes = new byte[tokens.length][];
        int known = 0;
        for (int id = 0; id < tokens.length; id++) {
            if (tokens[id] != null) {
                tokenBytes[id] = ByteLevel.decode(tokens[id]);
                known++;
            }
        }
        vocabSize = known;
        bosTokenId = specialTokenId(config.flatMap(TokenizerConfig::bosToken), "bos_token");
        eosTokenId = specialTokenId(config.flatMap(TokenizerConfig::eosToken), "eos_token");
    }

    /**
     * Reads {@code modelDir/tokenizer.json} and, if present, {@code modelDir/tokenizer_config.json}
     * (for the BOS and EOS tokens).
     *
     * @throws NoSuchFileException if there is no tokenizer.json
     * @throws IOException if a file cannot be read or is not JSON
     * @throws IllegalArgumentException if tokenizer.json describes a tokenizer this class does not support
     */
    public static Tokenizer load(Path modelDir) throws IOException {
        Path file = modelDir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "the model directory has no " + FILE_NAME);
        }
        Optional<TokenizerConfig> config = Files.isRegularFile(modelDir.resolve(TokenizerConfig.FILE_NAME))
                ? Optional.of(TokenizerConfig.load(modelDir))
                : Optional.empty();
        try (InputStream in = Files.newInputStream(file)) {
            return build(in, config, file.toString());
        }
    }

    /**
     * Reads a tokenizer from the contents of tokenizer.json and, optionally, tokenizer_config.json.
     *
     * @param tokenizerConfigJson may be null
     */
    public static Tokenizer fromJson(InputStream tokenizerJson, InputStream tokenizerConfigJson) throws IOException {
        Optional<TokenizerConfig> config = tokenizerConfigJson == null
                ? Optional.empty()
                : Optional.of(TokenizerConfig.read(tokenizerConfigJson, TokenizerConfig.FILE_NAME));
        return build(tokenizerJson, config, FILE_NAME);
    }

    private static Tokenizer build(InputStream json, Optional<TokenizerConfig> config, String source)
            throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IOException(source + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException(source + " does not hold a JSON object");
        }
        try {
            return new Tokenizer(root, config);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    /**
     * The ids of {@code text}: added tokens (such as {@code <｜User｜>}) found anywhere in it become
     * their ids; nothing is added at the start or end. Unpaired surrogates are encoded as U+FFFD.
     */
    public int[] encode(String text) {
        String original = withoutLoneSurrogates(text);
        String classified = UnicodeCategoryBridge.forRegex(original);
        IntList segments = new IntList(16);
        addedTokens.split(original, classified, segments);
        IntList ids = new IntList(original.length() / 3 + 16);
        IntList pieces = new IntList(64);
        for (int i = 0; i < segments.size(); i += 3) {
            int addedTokenId = segments.get(i + 2);
            if (addedTokenId != AddedTokens.PLAIN_TEXT) {
                ids.add(addedTokenId);
                continue;
            }
            pieces.clear();
            preTokenizer.split(classified, segments.get(i), segments.get(i + 1), pieces);
            for (int p = 0; p < pieces.size(); p += 2) {
                model.encode(original.substring(pieces.get(p), pieces.get(p + 1)), ids);
            }
        }
        return ids.toArray();
    }

    /** The text of {@code ids}, special tokens included; as HF {@code decode(ids, skip_special_tokens=False)}. */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /**
     * The text of {@code ids}, as HF {@code decode}: ids without a token are skipped, and invalid
     * UTF-8 (e.g. half a character at the end) becomes U+FFFD.
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        byte[] bytes = new byte[ids.length * 4];
        int length = 0;
        for (int id : ids) {
            byte[] token = bytesOf(id, skipSpecialTokens);
            if (token.length > bytes.length - length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + token.length));
            }
            System.arraycopy(token, 0, bytes, length, token.length);
            length += token.length;
        }
        StringBuilder text = new StringBuilder(length);
        Utf8.decode(bytes, 0, length, true, text);
        return text.toString();
    }

    /** A decoder for generated ids, one at a time, that keeps special tokens. */
    public StreamingDecoder newStreamingDecoder() {
        return newStreamingDecoder(false);
    }

    public StreamingDecoder newStreamingDecoder(boolean skipSpecialTokens) {
        return new StreamingDecoder(this, skipSpecialTokens);
    }

    /** The bytes {@code id} decodes to: none for ids without a token, and for skipped special tokens. */
    byte[] bytesOf(int id, boolean skipSpecialTokens) {
        boolean known = id >= 0 && id < tokenBytes.length && tokenBytes[id] != null;
        boolean skipped = skipSpecialTokens && specialIds.get(id);
        return known && !skipped ? tokenBytes[id] : NO_BYTES;
    }

    /** The id of {@code bos_token} from tokenizer_config.json, if it was read. */
    public OptionalInt bosTokenId() {
        return bosTokenId;
    }

    /** The id of {@code eos_token} from tokenizer_config.json, if it was read. */
    public OptionalInt eosTokenId() {
        return eosTokenId;
    }

    /** The id of a token string (an added token's content, or a model token in the byte-level alphabet). */
    public OptionalInt tokenToId(String token) {
        AddedTokens.AddedToken added = addedTokens.byContent(token);
        if (added != null) {
            return OptionalInt.of(added.id());
        }
        Integer id = model.vocab().get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** The token string of {@code id}, or null if the tokenizer has no token with that id. */
    public String idToToken(int id) {
        return id >= 0 && id < tokens.length ? tokens[id] : null;
    }

    /** Whether {@code id} is an added token marked special (skipped by {@code decode(ids, true)}). */
    public boolean isSpecialToken(int id) {
        return specialIds.get(id);
    }

    /** The number of ids the tokenizer knows: model vocabulary and added tokens (128,815 for DeepSeek-V3). */
    public int vocabSize() {
        return vocabSize;
    }

    private OptionalInt specialTokenId(Optional<String> token, String attribute) {
        if (token.isEmpty()) {
            return OptionalInt.empty();
        }
        OptionalInt id = tokenToId(token.get());
        if (id.isEmpty()) {
            throw new IllegalArgumentException(
                    TokenizerConfig.FILE_NAME + " names " + attribute + " '" + token.get() + "', which has no id");
        }
        return id;
    }

    private static void requireNoNormalizer(JsonNode normalizer) {
        if (normalizer.isMissingNode() || normalizer.isNull()) {
            return;
        }
        String type = normalizer.path("type").asText();
        if (!type.equals("Sequence")) {
            throw new IllegalArgumentException("unsupported normalizer type '" + type + "' (only none is supported)");
        }
        for (JsonNode step : normalizer.path("normalizers")) {
            requireNoNormalizer(step);
        }
    }

    private static String withoutLoneSurrogates(String text) {
        char[] repaired = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                if (repaired == null) {
                    repaired = text.toCharArray();
                }
                repaired[i] = Utf8.REPLACEMENT;
            }
        }
        return repaired == null ? text : new String(repaired);
    }
}
