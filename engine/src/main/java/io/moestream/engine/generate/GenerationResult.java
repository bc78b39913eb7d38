package io.moestream.engine.generate;

/**
 * A finished sequence.
 *
 * @param id the request id
 * @param ids the generated token ids (an end-of-sequence token, when one ended it, included)
 * @param text the generated text, cut before the stop string or end-of-sequence token that ended it; empty without a
 *     tokenizer
 * @param finishReason why it ended
 * @param promptTokens the prompt's length in tokens
 */
public record GenerationResult(String id, int[] ids, String text, FinishReason finishReason, int promptTokens) {}
