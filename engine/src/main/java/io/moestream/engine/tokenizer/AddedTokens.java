package io.moestream.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code added_tokens} of tokenizer.json (special tokens such as {@code <｜User｜>}), found in
 * the text before anything else as HF's AddedVocabulary does: leftmost-longest matching, first of
 * the tokens with {@code normalized=false}, then of the others in the text between those, honouring
 * each token's {@code single_word}, {@code lstrip} and {@code rstrip}.
 */
final class AddedTokens {
    /** Marks a segment of plain text (not an added token) in {@link #split}'s output. */
    static final int PLAIN_TEXT = -1;

    record AddedToken(
            String content,
            int id,
            boolean singleWord,
            boolean lstrip,
            boolean rstrip,
            boolean normalized,
            boolean special) {}

    private final List<AddedToken> tokens;
    private final Map<String, AddedToken> byContent = new HashMap<>();
    private final Trie rawTrie = new Trie();
    private final Trie normalizedTrie = new Trie();

    private AddedTokens(List<AddedToken> tokens) {
        this.tokens = List.copyOf(tokens);
        for (int i = 0; i < tokens.size(); i++) {
            AddedToken token = tokens.get(i);
            byContent.put(token.content(), token);
            (token.normalized() ? normalizedTrie : rawTrie).insert(token.content(), i);
        }
    }

    static AddedTokens fromJson(JsonNode addedTokens) {
        List<AddedToken> tokens = new ArrayList<>();
        for (JsonNode node : addedTokens) {
            String content = node.path("content").asText();
            if (content.isEmpty()
                    || !node.path("id").canConvertToInt()
                    || node.get("id").asInt() < 0) {
                throw new IllegalArgumentException("added_tokens entry without content or id: " + node);
            }
            tokens.add(new AddedToken(
                    content,
                    node.get("id").asInt(),
                    node.path("single_word").asBoolean(false),
                    node.path("lstrip").asBoolean(false),
                    node.path("rstrip").asBoolean(false),
                    node.path("normalized").asBoolean(true),
                    node.path("special").asBoolean(false)));
        }
        return new AddedTokens(tokens);
    }

    List<AddedToken> all() {
        return tokens;
    }

    AddedToken byContent(String content) {
        return byContent.get(content);
    }

    /**
     * Cuts {@code text} into segments, appended to {@code segments} as (start, end, id) triples with
     * id {@link #PLAIN_TEXT} for the text between added tokens.
     *
     * @param classified the same text as the regex engine classifies it (see {@link
     *     UnicodeCategoryBridge}), for the word and space tests of single_word, lstrip and rstrip
     */
    void split(String text, String classified, IntList segments) {
        IntList firstPass = new IntList(8);
        findMatches(rawTrie, text, classified, 0, text.length(), firstPass);
        for (int i = 0; i < firstPass.size(); i += 3) {
            if (firstPass.get(i + 2) == PLAIN_TEXT) {
                // No normalizer is supported, so the normalized text is the text itself.
                findMatches(normalizedTrie, text, classified, firstPass.get(i), firstPass.get(i + 1), segments);
            } else {
                segments.add(firstPass.get(i), firstPass.get(i + 1));
                segments.add(firstPass.get(i + 2));
            }
        }
    }

    /** HF's AddedVocabulary::find_matches on the sentence {@code text[from, to)}. */
    private void findMatches(Trie trie, String text, String classified, int from, int to, IntList segments) {
        int plainStart = from;
        int i = from;
        while (i < to) {
            int tokenIndex = trie.longestMatch(text, i, to);
            if (tokenIndex < 0) {
                i++;
                continue;
            }
            AddedToken token = tokens.get(tokenIndex);
            int start = i;
            int stop = i + token.content().length();
            i = stop; // the matcher resumes after the match, even one that single_word discards
            if (token.singleWord()
                    && (endsWithWordChar(classified, from, start) || startsWithWordChar(classified, stop, to))) {
                continue;
            }
            if (token.lstrip()) {
                start = Math.max(startOfTrailingSpace(classified, from, start), plainStart);
            }
            if (token.rstrip()) {
                stop = endOfLeadingSpace(classified, stop, to);
            }
            if (plainStart < start) {
                segments.add(plainStart, start);
                segments.add(PLAIN_TEXT);
            }
            segments.add(start, stop);
            segments.add(token.id());
            plainStart = stop;
        }
        if (plainStart < to) {
            segments.add(plainStart, to);
            segments.add(PLAIN_TEXT);
        }
    }

    // The word and space tests are those of Rust's regex crate (\w and \s) that HF uses here.

    private static boolean endsWithWordChar(String text, int from, int end) {
        return end > from && isWordChar(text.codePointBefore(end));
    }

    private static boolean startsWithWordChar(String text, int start, int to) {
        return start < to && isWordChar(text.codePointAt(start));
    }

    private static int startOfTrailingSpace(String text, int from, int end) {
        int start = end;
        while (start > from && isWhiteSpace(text.codePointBefore(start))) {
            start -= Character.charCount(text.codePointBefore(start));
        }
        return start;
    }

    private static int endOfLeadingSpace(String text, int start, int to) {
        int end = start;
        while (end < to && isWhiteSpace(text.codePointAt(end))) {
            end += Character.charCount(text.codePointAt(end));
        }
        return end;
    }

    private static boolean isWordChar(int cp) {
        int type = Character.getType(cp);
        return Character.isAlphabetic(cp)
                || type == Character.NON_SPACING_MARK
                || type == Character.COMBINING_SPACING_MARK
                || type == Character.ENCLOSING_MARK
                || type == Character.DECIMAL_DIGIT_NUMBER
                || type == Character.CONNECTOR_PUNCTUATION
                || cp == 0x200C // zero-width non-joiner and joiner: Join_Control
                || cp == 0x200D;
    }

    private static boolean isWhiteSpace(int cp) {
        int type = Character.getType(cp);
        return (cp >= 0x09 && cp <= 0x0D)
                || cp == 0x85
                || type == Character.SPACE_SEPARATOR
                || type == Character.LINE_SEPARATOR
                || type == Character.PARAGRAPH_SEPARATOR;
    }

    /** A character trie of token contents, for leftmost-longest matching. */
    private static final class Trie {
        private static final int ROOT = 0;

        private final LongIntHashMap children = new LongIntHashMap(1024);
        private final IntList tokenAtNode = new IntList(1024);
        private final BitSet firstChars = new BitSet(Character.MAX_VALUE + 1);

        Trie() {
            tokenAtNode.add(-1);
        }

        void insert(String content, int tokenIndex) {
            firstChars.set(content.charAt(0));
            int node = ROOT;
            for (int i = 0; i < content.length(); i++) {
                long key = edge(node, content.charAt(i));
                int child = children.get(key);
                if (child == LongIntHashMap.MISSING) {
                    child = tokenAtNode.size();
                    tokenAtNode.add(-1);
                    children.put(key, child);
                }
                node = child;
            }
            tokenAtNode.set(node, tokenIndex);
        }

        /** The index of the longest token that starts at {@code text[start]} and ends by {@code limit}, or -1. */
        int longestMatch(String text, int start, int limit) {
            if (!firstChars.get(text.charAt(start))) {
                return -1;
            }
            int longest = -1;
            int node = ROOT;
            for (int i = start; i < limit; i++) {
                node = children.get(edge(node, text.charAt(i)));
                if (node == LongIntHashMap.MISSING) {
                    break;
                }
                if (tokenAtNode.get(node) >= 0) {
                    longest = tokenAtNode.get(node);
                }
            }
            return longest;
        }

        private static long edge(int node, char c) {
            return ((long) node << 16) | c;
        }
    }
}
