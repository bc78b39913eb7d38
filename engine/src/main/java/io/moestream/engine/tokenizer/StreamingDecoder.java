package io.moestream.engine.tokenizer;

import java.util.Arrays;

/**
 * Turns generated ids into text as they come: {@link #push} returns the text completed by one more
 * id, never half a character (a CJK character or an emoji is often split over several byte-level
 * tokens). All pushes followed by {@link #flush} give exactly {@link Tokenizer#decode} of all ids.
 *
 * <p>One decoder follows one sequence; it is not thread-safe.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private final boolean skipSpecialTokens;
    /** Bytes of a character whose remaining bytes have not arrived yet (at most 3). */
    private byte[] pending = new byte[16];

    private int pendingLength;

    StreamingDecoder(Tokenizer tokenizer, boolean skipSpecialTokens) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
    }

    /** Adds one id and returns the text it completes, possibly "". */
    public String push(int id) {
        byte[] bytes = tokenizer.bytesOf(id, skipSpecialTokens);
        if (bytes.length == 0) {
            return "";
        }
        if (pendingLength + bytes.length > pending.length) {
            pending = Arrays.copyOf(pending, pendingLength + bytes.length);
        }
        System.arraycopy(bytes, 0, pending, pendingLength, bytes.length);
        pendingLength += bytes.length;
        return decodePending(false);
    }

    /**
     * Ends the sequence: returns what is left, with U+FFFD for an incomplete character (as HF decodes
     * it), and makes the decoder ready for a new sequence.
     */
    public String flush() {
        return decodePending(true);
    }

    private String decodePending(boolean endOfInput) {
        StringBuilder text = new StringBuilder(pendingLength);
        int firstUndecoded = Utf8.decode(pending, 0, pendingLength, endOfInput, text);
        pendingLength -= firstUndecoded;
        System.arraycopy(pending, firstUndecoded, pending, 0, pendingLength);
        return text.toString();
    }
}
