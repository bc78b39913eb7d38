package io.moestream.engine.tokenizer;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Compiles the regexes of tokenizer.json, written for Oniguruma (the engine of HF {@code
 * tokenizers}), into java.util.regex patterns with the same meaning.
 *
 * <p>Both are backtracking engines with Perl syntax. The flags give Oniguruma's defaults: Unicode
 * {@code \s} (White_Space) and {@code \d} (Nd), {@code ^}/{@code $} at line starts/ends and {@code .}
 * excluding only {@code \n}. A few escapes mean different things and are rewritten; the ones whose
 * Oniguruma meaning java.util.regex cannot express are rejected rather than silently changed.
 */
final class OnigurumaPatterns {
    private static final int FLAGS = Pattern.UNICODE_CHARACTER_CLASS | Pattern.MULTILINE | Pattern.UNIX_LINES;
    private static final String HEX_DIGITS = "0-9a-fA-F";

    private OnigurumaPatterns() {}

    /**
     * @throws IllegalArgumentException if the regex is invalid or uses a construct whose Oniguruma
     *     meaning is not supported
     */
    static Pattern compile(String regex) {
        StringBuilder java = new StringBuilder(regex.length() + 16);
        int classDepth = 0;
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '\\' && i + 1 < regex.length()) {
                char letter = regex.charAt(++i);
                if ((letter == 'p' || letter == 'P') && regex.startsWith("{^", i + 1)) {
                    java.append(letter == 'p' ? "\\P{" : "\\p{"); // Oniguruma's \p{^X} is \P{X}
                    i += 2;
                } else {
                    java.append(javaEscape(regex, letter, classDepth > 0));
                }
                continue;
            }
            if (c == '[') {
                if (classDepth > 0 && regex.startsWith("[:", i)) {
                    throw unsupported(regex, "POSIX bracket expressions");
                }
                classDepth++;
            } else if (c == ']' && classDepth > 0) {
                classDepth--;
            }
            java.append(c);
        }
        try {
            return Pattern.compile(java.toString(), FLAGS);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("invalid regex /" + regex + "/: " + e.getDescription(), e);
        }
    }

    /** The java.util.regex form of the Oniguruma escape backslash-{@code letter}. */
    private static String javaEscape(String regex, char letter, boolean inClass) {
        return switch (letter) {
            case 'h' -> inClass ? HEX_DIGITS : "[" + HEX_DIGITS + "]";
            case 'H' -> "[^" + HEX_DIGITS + "]";
            case 'v' -> "\\x0B"; // Java's \v is the vertical-whitespace class
            case 'w', 'W', 'b', 'B' -> throw unsupported(regex, "\\" + letter + " (its Unicode word class differs)");
            default -> "\\" + letter;
        };
    }

    private static IllegalArgumentException unsupported(String regex, String construct) {
        return new IllegalArgumentException("unsupported in regex /" + regex + "/: " + construct);
    }
}
