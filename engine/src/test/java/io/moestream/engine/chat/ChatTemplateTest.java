package io.moestream.engine.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.tokenizer.BundledTokenizers;
import io.moestream.engine.tokenizer.Tokenizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Parity with transformers' apply_chat_template on fixtures it produced (see src/test/resources/chat/). */
class ChatTemplateTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<ChatMessage> SNIPPET_MESSAGES = List.of(
            new ChatMessage("user", " Hello there "),
            new ChatMessage("assistant", "Hi"),
            new ChatMessage("user", "Bye"));

    @TempDir
    Path modelDir;

    @Test
    void rendersDeepSeekV3ConversationsLikeTransformers() throws IOException, URISyntaxException {
        BundledTokenizers.copyDeepSeekV3To(modelDir);
        ChatTemplate template = ChatTemplate.load(modelDir);
        List<String> mismatches = new ArrayList<>();
        List<JsonNode> rows = readJsonLines("/chat/deepseek_v3_chat.jsonl");
        for (JsonNode row : rows) {
            List<ChatMessage> messages = new ArrayList<>();
            for (JsonNode message : row.get("messages")) {
                JsonNode content = message.get("content");
                messages.add(new ChatMessage(message.get("role").asText(), content.isNull() ? null : content.asText()));
            }
            boolean addGenerationPrompt = row.get("add_generation_prompt").asBoolean();
            String expected = row.get("rendered").asText();
            String actual = template.render(messages, addGenerationPrompt);
            if (!expected.equals(actual)) {
                mismatches.add(row.get("name").asText() + ", add_generation_prompt=" + addGenerationPrompt
                        + ":\n  expected " + JSON.writeValueAsString(expected)
                        + "\n  but was  " + JSON.writeValueAsString(actual));
            }
        }
        assertTrue(rows.size() >= 30, "too few conversations: " + rows.size());
        assertTrue(
                mismatches.isEmpty(),
                () -> mismatches.size() + " of " + rows.size() + " differ from transformers:\n"
                        + String.join("\n", mismatches));
    }

    @Test
    void rendersJinjaFeaturesLikeTransformers() throws IOException, URISyntaxException {
        List<String> mismatches = new ArrayList<>();
        List<JsonNode> rows = readJsonLines("/chat/jinja_snippets.jsonl");
        for (JsonNode row : rows) {
            String source = row.get("template").asText();
            ChatTemplate template = deepSeekConfigWithTemplate(source);
            String actual;
            try {
                actual = template.render(SNIPPET_MESSAGES, true);
            } catch (ChatTemplateException e) {
                actual = "raised: " + e.getMessage();
            }
            String expected = row.has("error")
                    ? "raised: " + row.get("error").asText()
                    : row.get("rendered").asText();
            if (!expected.equals(actual)) {
                mismatches.add(JSON.writeValueAsString(source) + "\n  expected " + JSON.writeValueAsString(expected)
                        + "\n  but was  " + JSON.writeValueAsString(actual));
            }
        }
        assertTrue(
                mismatches.isEmpty(),
                () -> mismatches.size() + " of " + rows.size() + " differ from transformers:\n"
                        + String.join("\n", mismatches));
    }

    @Test
    void keepsTemplateSyntaxInMessagesAsText() throws IOException {
        ChatTemplate template = deepSeekConfigWithTemplate("{{ messages[0].content }}");

        String rendered =
                template.render(List.of(new ChatMessage("user", "{{ 1 + 1 }}{% if true %}x{% endif %}")), false);

        assertEquals("{{ 1 + 1 }}{% if true %}x{% endif %}", rendered);
    }

    @Test
    void prefersChatTemplateJinjaLikeTransformers() throws IOException {
        BundledTokenizers.copyDeepSeekV3To(modelDir);
        Files.writeString(modelDir.resolve(ChatTemplate.TEMPLATE_FILE_NAME), "{{ bos_token }}{{ messages|length }}\n");

        ChatTemplate template = ChatTemplate.load(modelDir);

        assertEquals("<｜begin▁of▁sentence｜>1", template.render(List.of(new ChatMessage("user", "x")), true));
    }

    @Test
    void rejectsAnInvalidTemplateWhenLoading() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> deepSeekConfigWithTemplate("{% if %}unclosed"));

        assertTrue(e.getMessage().contains("the chat template in tokenizer_config.json is invalid"), e.getMessage());
    }

    @Test
    void namesTheDirectoryWithoutATemplate() throws IOException {
        Files.writeString(modelDir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<s>\"}");

        IOException e = assertThrows(IOException.class, () -> ChatTemplate.load(modelDir));

        assertTrue(e.getMessage().contains("no chat template in " + modelDir), e.getMessage());
    }

    @Test
    void producesAPromptThatEncodesToDeepSeeksControlTokens() throws IOException {
        BundledTokenizers.copyDeepSeekV3To(modelDir);
        Tokenizer tokenizer = Tokenizer.load(modelDir);
        String prompt = ChatTemplate.load(modelDir)
                .render(List.of(new ChatMessage("system", "Be brief."), new ChatMessage("user", "Hi")), true);

        int[] ids = tokenizer.encode(prompt);

        assertEquals(tokenizer.bosTokenId().orElseThrow(), ids[0]);
        assertEquals(tokenizer.tokenToId("<｜User｜>").orElseThrow(), ids[ids.length - 3]);
        assertEquals(tokenizer.tokenToId("<｜Assistant｜>").orElseThrow(), ids[ids.length - 1]);
        assertEquals(prompt, tokenizer.decode(ids));
    }

    /** DeepSeek-V3's tokenizer_config.json (for its special tokens) with another chat_template. */
    private static ChatTemplate deepSeekConfigWithTemplate(String template) throws IOException {
        ObjectNode config;
        try (InputStream in = BundledTokenizers.class.getResourceAsStream("deepseek_v3/tokenizer_config.json")) {
            config = (ObjectNode) JSON.readTree(in);
        }
        config.put("chat_template", template);
        return ChatTemplate.fromTokenizerConfig(new ByteArrayInputStream(JSON.writeValueAsBytes(config)));
    }

    private static List<JsonNode> readJsonLines(String resource) throws IOException, URISyntaxException {
        List<JsonNode> rows = new ArrayList<>();
        for (String line : Files.readAllLines(
                Path.of(ChatTemplateTest.class.getResource(resource).toURI()))) {
            rows.add(JSON.readTree(line));
        }
        return rows;
    }
}
