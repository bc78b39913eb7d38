package io.moestream.engine.chat;

/**
 * One message of a conversation, as OpenAI-style APIs and chat templates know it.
 *
 * @param role "system", "user", "assistant", "tool", ...: the template decides what it makes of a
 *     role (DeepSeek's ignores roles it does not know), so callers validate roles
 * @param content the text; null for an assistant turn without text (the template's {@code is none})
 */
public record ChatMessage(String role, String content) {
    public ChatMessage {
        if (role == null) {
            throw new IllegalArgumentException("a chat message needs a role");
        }
    }
}
