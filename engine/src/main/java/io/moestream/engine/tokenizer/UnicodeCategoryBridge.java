package io.moestream.engine.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.BitSet;

/**
 * Lets java.util.regex classify characters the way HF {@code tokenizers} does.
 *
 * <p>HF runs tokenizer.json regexes in Oniguruma with Unicode 16 tables; the JDK's tables are older
 * (Java 17: Unicode 13), so e.g. the emoji 🫠 (Unicode 14) is an unassigned character to {@code
 * \p{S}} in Java and "🫠hi" would be split differently. {@link #forRegex} returns a copy of the text
 * in which every character whose category the JDK sees differently is replaced by a stand-in of the
 * same UTF-16 length that both see in the right category; regexes run on that copy, and the offsets
 * they find apply to the original text. The categories come from a table generated from HF itself
 * (see make_unicode_categories.py in the test resources). Stand-ins are taken outside the ASCII,
 * Latin-1 and CJK ranges that tokenizer regexes name literally.
 */
final class UnicodeCategoryBridge {
    private static final String TABLE = "unicode_general_categories.txt";
    private static final int CODE_POINTS = Character.MAX_CODE_POINT + 1;
    private static final UnicodeCategoryBridge INSTANCE = load();

    /** The code points the JDK classifies differently, also as a set for a quick test. */
    private final BitSet differing;

    private final int[] differingCodePoints;
    private final int[] standIns;

    private UnicodeCategoryBridge(byte[] hfCategories) {
        int[][] standInByCategory = new int[2][32];
        for (int[] byWidth : standInByCategory) {
            Arrays.fill(byWidth, -1);
        }
        for (int cp = 0; cp < CODE_POINTS; cp++) {
            int category = hfCategories[cp];
            int[] byWidth = standInByCategory[Character.charCount(cp) - 1];
            if (byWidth[category] < 0 && Character.getType(cp) == category && isStandInCandidate(cp)) {
                byWidth[category] = cp;
            }
        }
        differing = new BitSet(CODE_POINTS);
        IntList codePoints = new IntList(16_384);
        IntList replacements = new IntList(16_384);
        for (int cp = 0; cp < CODE_POINTS; cp++) {
            int category = hfCategories[cp];
            int standIn = standInByCategory[Character.charCount(cp) - 1][category];
            if (Character.getType(cp) != category && standIn >= 0) {
                differing.set(cp);
                codePoints.add(cp);
                replacements.add(standIn);
            }
        }
        differingCodePoints = codePoints.toArray();
        standIns = replacements.toArray();
    }

    /** Returns {@code text}, or a copy of it with stand-ins where the JDK's categories are out of date. */
    static String forRegex(String text) {
        return INSTANCE.replaceDiffering(text);
    }

    private String replaceDiffering(String text) {
        char[] copy = null;
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c < 0x80) {
                i++;
                continue;
            }
            int cp = text.codePointAt(i);
            if (differing.get(cp)) {
                if (copy == null) {
                    copy = text.toCharArray();
                }
                Character.toChars(standIns[Arrays.binarySearch(differingCodePoints, cp)], copy, i);
            }
            i += Character.charCount(cp);
        }
        return copy == null ? text : new String(copy);
    }

    private static boolean isStandInCandidate(int cp) {
        boolean cjk =
                (cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0x2E80 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7FF);
        boolean compatibilityOrSpecials = cp >= 0xF900 && cp <= 0xFFFF;
        boolean beyondPlaneOne = cp >= 0x20000;
        return cp >= 0x100 && !cjk && !compatibilityOrSpecials && !beyondPlaneOne;
    }

    private static UnicodeCategoryBridge load() {
        try (InputStream in = UnicodeCategoryBridge.class.getResourceAsStream(TABLE)) {
            if (in == null) {
                throw new IllegalStateException("missing classpath resource " + TABLE);
            }
            return new UnicodeCategoryBridge(parse(in));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read classpath resource " + TABLE, e);
        }
    }

    /** Parses lines "first-code-point-hex category" (runs up to the next line) into a category per code point. */
    private static byte[] parse(InputStream in) throws IOException {
        byte[] categories = new byte[CODE_POINTS];
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
        int runStart = -1;
        byte runCategory = 0;
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int space = line.indexOf(' ');
            int start = Integer.parseInt(line.substring(0, space), 16);
            if (runStart >= 0) {
                Arrays.fill(categories, runStart, start, runCategory);
            }
            runStart = start;
            runCategory = categoryCode(line.substring(space + 1));
        }
        Arrays.fill(categories, runStart, CODE_POINTS, runCategory);
        return categories;
    }

    private static byte categoryCode(String name) {
        return switch (name) {
            case "Cn" -> Character.UNASSIGNED;
            case "Lu" -> Character.UPPERCASE_LETTER;
            case "Ll" -> Character.LOWERCASE_LETTER;
            case "Lt" -> Character.TITLECASE_LETTER;
            case "Lm" -> Character.MODIFIER_LETTER;
            case "Lo" -> Character.OTHER_LETTER;
            case "Mn" -> Character.NON_SPACING_MARK;
            case "Me" -> Character.ENCLOSING_MARK;
            case "Mc" -> Character.COMBINING_SPACING_MARK;
            case "Nd" -> Character.DECIMAL_DIGIT_NUMBER;
            case "Nl" -> Character.LETTER_NUMBER;
            case "No" -> Character.OTHER_NUMBER;
            case "Zs" -> Character.SPACE_SEPARATOR;
            case "Zl" -> Character.LINE_SEPARATOR;
            case "Zp" -> Character.PARAGRAPH_SEPARATOR;
            case "Cc" -> Character.CONTROL;
            case "Cf" -> Character.FORMAT;
            case "Co" -> Character.PRIVATE_USE;
            case "Cs" -> Character.SURROGATE;
            case "Pd" -> Character.DASH_PUNCTUATION;
            case "Ps" -> Character.START_PUNCTUATION;
            case "Pe" -> Character.END_PUNCTUATION;
            case "Pc" -> Character.CONNECTOR_PUNCTUATION;
            case "Po" -> Character.OTHER_PUNCTUATION;
            case "Sm" -> Character.MATH_SYMBOL;
            case "Sc" -> Character.CURRENCY_SYMBOL;
            case "Sk" -> Character.MODIFIER_SYMBOL;
            case "So" -> Character.OTHER_SYMBOL;
            case "Pi" -> Character.INITIAL_QUOTE_PUNCTUATION;
            case "Pf" -> Character.FINAL_QUOTE_PUNCTUATION;
            default -> throw new IllegalStateException("unknown general category '" + name + "' in " + TABLE);
        };
    }
}
