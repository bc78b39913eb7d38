package io.moestream.engine.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import io.moestream.engine.tokenizer.TokenizerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model's chat template, rendered with Jinjava (a Jinja engine for Java) so that the prompt is the
 * one transformers' {@code apply_chat_template(messages, tokenize=False, add_generation_prompt=...)}
 * produces, byte for byte.
 *
 * <p>The engine is configured as transformers configures jinja2 ({@code trim_blocks}, {@code
 * lstrip_blocks}, a {@code raise_exception} function), plus Jinjava's options that restore Python
 * Jinja semantics. What remains different in Jinjava 2.8 (none of it used by DeepSeek's templates):
 * booleans and None print as {@code true}/{@code false}/"" instead of {@code True}/{@code False}/{@code
 * None}; {@code not a == b} parses as {@code (not a) == b}; string methods are Java's ({@code split}
 * takes a regex and drops trailing empty strings, there is no {@code startswith}); {@code %} string
 * formatting and {@code 'ab' * 2} fail; {@code tojson} writes compact JSON; {@code is none} is true for
 * undefined names; unknown filters are ignored instead of failing.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class ChatTemplate {
    /** Where transformers looks first for a model's template (before tokenizer_config.json). */
    public static final String TEMPLATE_FILE_NAME = "chat_template.jinja";

    private static final Jinjava JINJAVA = newJinjava();

    private final String template;
    private final Map<String, String> specialTokens;

    private ChatTemplate(String template, Map<String, String> specialTokens, String source) {
        this.template = asJinja2ReadsIt(template);
        this.specialTokens = specialTokens;
        List<String> syntaxErrors = syntaxErrors(this.template);
        if (!syntaxErrors.isEmpty()) {
            throw new IllegalArgumentException("the chat template in " + source + " is invalid: " + syntaxErrors);
        }
    }

    /**
     * Reads a model directory's template as transformers does: {@code chat_template.jinja} if present,
     * else {@code chat_template} from {@code tokenizer_config.json}, whose special tokens ({@code
     * bos_token}, ...) the template can use.
     *
     * @throws IOException if a file cannot be read or there is no template
     * @throws IllegalArgumentException if the template is not valid Jinja
     */
    public static ChatTemplate load(Path modelDir) throws IOException {
        Path configFile = modelDir.resolve(TokenizerConfig.FILE_NAME);
        Path templateFile = modelDir.resolve(TEMPLATE_FILE_NAME);
        Optional<TokenizerConfig> config =
                Files.isRegularFile(configFile) ? Optional.of(TokenizerConfig.load(modelDir)) : Optional.empty();
        Map<String, String> specialTokens =
                config.map(TokenizerConfig::specialTokens).orElse(Map.of());
        if (Files.isRegularFile(templateFile)) {
            return new ChatTemplate(Files.readString(templateFile), specialTokens, templateFile.toString());
        }
        String template = config.flatMap(TokenizerConfig::chatTemplate)
                .orElseThrow(() -> new IOException("no chat template in " + modelDir + ": neither " + TEMPLATE_FILE_NAME
                        + " nor a chat_template in " + TokenizerConfig.FILE_NAME));
        return new ChatTemplate(template, specialTokens, configFile.toString());
    }

    /** Reads the template and special tokens from the contents of a tokenizer_config.json. */
    public static ChatTemplate fromTokenizerConfig(InputStream json) throws IOException {
        TokenizerConfig config = TokenizerConfig.read(json, TokenizerConfig.FILE_NAME);
        String template = config.chatTemplate()
                .orElseThrow(() -> new IOException(TokenizerConfig.FILE_NAME + " has no chat_template"));
        return new ChatTemplate(template, config.specialTokens(), TokenizerConfig.FILE_NAME);
    }

    /**
     * The prompt for {@code messages}, ending with the assistant's cue if {@code
     * addGenerationPrompt}. The template sees {@code messages} (each with {@code role} and {@code
     * content}), {@code add_generation_prompt} and the special tokens, as in transformers.
     *
     * @throws ChatTemplateException if the template raises an exception or fails
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> templateMessages = new ArrayList<>(messages.size());
        for (ChatMessage message : messages) {
            Map<String, Object> templateMessage = new HashMap<>(); // HashMap: content may be null
            templateMessage.put("role", message.role());
            templateMessage.put("content", message.content());
            templateMessages.add(templateMessage);
        }
        Map<String, Object> bindings = new HashMap<>(specialTokens);
        bindings.put("messages", templateMessages);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        RenderResult result = JINJAVA.renderForResult(template, bindings);
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw failure(error);
            }
        }
        return result.getOutput();
    }

    /** The {@code raise_exception(message)} that transformers gives templates. */
    private static String raiseException(String message) {
        throw new RaisedByTemplate(message);
    }

    private static ChatTemplateException failure(TemplateError error) {
        for (Throwable cause = error.getException(); cause != null; cause = cause.getCause()) {
            if (cause instanceof RaisedByTemplate raised) {
                return new ChatTemplateException(raised.getMessage(), raised);
            }
        }
        return new ChatTemplateException(
                "chat template failed at line " + error.getLineno() + ": " + error.getMessage(), error.getException());
    }

    /**
     * The template text as jinja2's lexer takes it: line breaks normalized to {@code \n} and the final
     * one dropped (transformers keeps jinja2's {@code keep_trailing_newline=False}). Jinjava's own
     * option trims the rendered output instead, which would also eat a newline the template prints.
     */
    private static String asJinja2ReadsIt(String template) {
        String normalized = template.replace("\r\n", "\n").replace('\r', '\n');
        return normalized.endsWith("\n") ? normalized.substring(0, normalized.length() - 1) : normalized;
    }

    private static List<String> syntaxErrors(String template) {
        JinjavaInterpreter interpreter = JINJAVA.newInterpreter();
        interpreter.parse(template);
        return interpreter.getErrors().stream()
                .filter(error -> error.getSeverity() == TemplateError.ErrorType.FATAL)
                .map(error -> "line " + error.getLineno() + ": " + error.getMessage())
                .toList();
    }

    private static Jinjava newJinjava() {
        Jinjava jinjava = new Jinjava(JinjavaConfig.newBuilder()
                .withTrimBlocks(true) // transformers' jinja2 environment
                .withLstripBlocks(true)
                .withKeepTrailingNewline(true) // Jinjava would trim the output; see asJinja2ReadsIt
                .withNestedInterpretationEnabled(false) // message text with "{{" must stay text
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        // Python Jinja semantics instead of Jinjava's historical ones. Not enabled:
                        // WhitespaceRequiredWithinTokens (rejects DeepSeek's "%}" right after "]") and
                        // UseNaturalOperatorPrecedence (makes "not x is defined" true for a defined x).
                        .withEvaluateMapKeys(true)
                        .withIterateOverMapKeys(true)
                        .withUsePyishObjectMapper(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withAllowAdjacentTextNodes(true)
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withKeepNullableLoopValues(true)
                        .withHandleBackslashInQuotesOnly(true)
                        .build())
                .build());
        try {
            Method raiseException = ChatTemplate.class.getDeclaredMethod("raiseException", String.class);
            raiseException.setAccessible(true);
            jinjava.getGlobalContext()
                    .registerFunction(new ELFunctionDefinition("", "raise_exception", raiseException));
        } catch (NoSuchMethodException e) {
            throw new AssertionError(e);
        }
        return jinjava;
    }

    private static final class RaisedByTemplate extends RuntimeException {
        RaisedByTemplate(String message) {
            super(message);
        }
    }
}
