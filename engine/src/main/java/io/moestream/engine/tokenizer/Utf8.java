package io.moestream.engine.tokenizer;

/**
 * Lossy UTF-8 decoding exactly as Rust's {@code String::from_utf8_lossy} (which HF decoding uses):
 * each maximal ill-formed subpart becomes one U+FFFD. It can also stop before an incomplete final
 * sequence, so a stream of bytes decodes to the same text in pieces as in one go.
 */
final class Utf8 {
    static final char REPLACEMENT = '\uFFFD';

    private Utf8() {}

    /**
     * Appends the text of {@code bytes[from, to)} to {@code out}.
     *
     * @param endOfInput whether no more bytes follow; if not, an incomplete but so far valid
     *     sequence at the end is left undecoded
     * @return the index of the first byte not decoded ({@code to} unless an incomplete sequence was
     *     left for later)
     */
    static int decode(byte[] bytes, int from, int to, boolean endOfInput, StringBuilder out) {
        int i = from;
        while (i < to) {
            int lead = bytes[i] & 0xFF;
            if (lead < 0x80) {
                out.append((char) lead);
                i++;
                continue;
            }
            int continuationBytes;
            int codePoint;
            // The allowed range of the second byte excludes overlong forms, surrogates and > U+10FFFF.
            int low = 0x80;
            int high = 0xBF;
            if (lead >= 0xC2 && lead <= 0xDF) {
                continuationBytes = 1;
                codePoint = lead & 0x1F;
            } else if (lead >= 0xE0 && lead <= 0xEF) {
                continuationBytes = 2;
                codePoint = lead & 0x0F;
                low = lead == 0xE0 ? 0xA0 : low;
                high = lead == 0xED ? 0x9F : high;
            } else if (lead >= 0xF0 && lead <= 0xF4) {
                continuationBytes = 3;
                codePoint = lead & 0x07;
                low = lead == 0xF0 ? 0x90 : low;
                high = lead == 0xF4 ? 0x8F : high;
            } else {
                out.append(REPLACEMENT);
                i++;
                continue;
            }
            int next = i + 1;
            boolean complete = true;
            for (int k = 0; k < continuationBytes; k++, next++) {
                if (next == to) {
                    if (!endOfInput) {
                        return i;
                    }
                    complete = false;
                    break;
                }
                int b = bytes[next] & 0xFF;
                if (b < low || b > high) {
                    complete = false;
                    break;
                }
                codePoint = (codePoint << 6) | (b & 0x3F);
                low = 0x80;
                high = 0xBF;
            }
            if (complete) {
                out.appendCodePoint(codePoint);
            } else {
                out.append(REPLACEMENT);
            }
            i = next;
        }
        return to;
    }
}
