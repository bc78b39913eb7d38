package io.moestream.engine.chat;

/**
 * A conversation the chat template refuses (it called {@code raise_exception}, e.g. because roles do
 * not alternate) or cannot render. The message is the template's own.
 */
public final class ChatTemplateException extends RuntimeException {
    ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
