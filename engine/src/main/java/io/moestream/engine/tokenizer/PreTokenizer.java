package io.moestream.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code pre_tokenizer} of a byte-level BPE tokenizer.json: regex {@code Split}s (possibly in a
 * {@code Sequence}) that cut text into pieces, ending with {@code ByteLevel}, which maps each piece
 * to its bytes. Pieces are kept as offsets into the text; {@link BytePairEncoding} does the bytes.
 */
final class PreTokenizer {
    /** The regex HF's ByteLevel pre-tokenizer splits with when {@code use_regex} is true. */
    private static final String GPT2_PATTERN =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    private final List<RegexSplit> splits;

    private PreTokenizer(List<RegexSplit> splits) {
        this.splits = List.copyOf(splits);
    }

    /**
     * @throws IllegalArgumentException if the pre-tokenizer is not a byte-level one this class
     *     reproduces exactly
     */
    static PreTokenizer fromJson(JsonNode node) {
        List<RegexSplit> splits = new ArrayList<>();
        if (!addSteps(node, splits)) {
            throw new IllegalArgumentException(
                    "pre_tokenizer must end with ByteLevel (only byte-level BPE is supported)");
        }
        return new PreTokenizer(splits);
    }

    /** Adds the splits of {@code node} and returns whether it ended with ByteLevel. */
    private static boolean addSteps(JsonNode node, List<RegexSplit> splits) {
        String type = node.path("type").asText("null");
        switch (type) {
            case "Sequence" -> {
                boolean byteLevel = false;
                for (JsonNode step : node.path("pretokenizers")) {
                    if (byteLevel) {
                        throw new IllegalArgumentException("pre_tokenizer steps after ByteLevel are not supported");
                    }
                    byteLevel = addSteps(step, splits);
                }
                return byteLevel;
            }
            case "Split" -> {
                splits.add(RegexSplit.fromJson(node));
                return false;
            }
            case "ByteLevel" -> {
                if (node.path("add_prefix_space").asBoolean(true)) {
                    throw new IllegalArgumentException(
                            "ByteLevel pre_tokenizer with add_prefix_space=true is not supported");
                }
                if (node.path("use_regex").asBoolean(true)) {
                    splits.add(new RegexSplit(OnigurumaPatterns.compile(GPT2_PATTERN), Behavior.ISOLATED, false));
                }
                return true;
            }
            default -> throw new IllegalArgumentException("unsupported pre_tokenizer type '" + type + "'");
        }
    }

    /**
     * Appends the pieces of {@code text[start, end)} to {@code pieces} as (start, end) pairs.
     *
     * @param text the text the regexes see (see {@link UnicodeCategoryBridge}); offsets are the same
     *     as in the original
     */
    void split(String text, int start, int end, IntList pieces) {
        IntList current = new IntList(2);
        current.add(start, end);
        IntList segments = new IntList(64);
        IntList kept = new IntList(64);
        for (RegexSplit step : splits) {
            IntList next = new IntList(current.size() * 4);
            Matcher matcher = step.pattern().matcher(text);
            for (int i = 0; i < current.size(); i += 2) {
                step.split(matcher, current.get(i), current.get(i + 1), segments, kept);
                for (int k = 0; k < kept.size(); k += 2) {
                    if (kept.get(k) < kept.get(k + 1)) {
                        next.add(kept.get(k), kept.get(k + 1));
                    }
                }
            }
            current = next;
        }
        for (int i = 0; i < current.size(); i++) {
            pieces.add(current.get(i));
        }
    }

    /** What becomes of the matches of a Split's pattern (HF's SplitDelimiterBehavior). */
    enum Behavior {
        REMOVED,
        ISOLATED,
        MERGED_WITH_PREVIOUS,
        MERGED_WITH_NEXT,
        CONTIGUOUS;

        static Behavior fromJson(String name) {
            for (Behavior behavior : values()) {
                if (behavior.name().replace("_", "").equals(name.toUpperCase(Locale.ROOT))) {
                    return behavior;
                }
            }
            throw new IllegalArgumentException("unknown Split behavior '" + name + "'");
        }
    }

    private record RegexSplit(Pattern pattern, Behavior behavior, boolean invert) {
        static RegexSplit fromJson(JsonNode node) {
            JsonNode pattern = node.path("pattern");
            Pattern compiled;
            if (pattern.has("Regex")) {
                compiled = OnigurumaPatterns.compile(pattern.get("Regex").asText());
            } else if (pattern.has("String") && !pattern.get("String").asText().isEmpty()) {
                compiled = Pattern.compile(Pattern.quote(pattern.get("String").asText()));
            } else {
                throw new IllegalArgumentException("Split needs a non-empty String or Regex pattern: " + pattern);
            }
            return new RegexSplit(
                    compiled,
                    Behavior.fromJson(node.path("behavior").asText()),
                    node.path("invert").asBoolean(false));
        }

        /**
         * Splits {@code [start, end)} as HF's NormalizedString::split: the matches and the text
         * between them become segments, which the behavior merges or drops into {@code out} as
         * (start, end) pairs; the caller drops the empty ones.
         */
        void split(Matcher matcher, int start, int end, IntList segments, IntList out) {
            segments.clear();
            out.clear();
            matcher.region(start, end);
            int previousEnd = start;
            while (matcher.find()) {
                if (matcher.start() > previousEnd) {
                    segments.add(previousEnd, matcher.start());
                    segments.add(invert ? 1 : 0);
                }
                segments.add(matcher.start(), matcher.end());
                segments.add(invert ? 0 : 1);
                previousEnd = matcher.end();
            }
            if (previousEnd < end) {
                segments.add(previousEnd, end);
                segments.add(invert ? 1 : 0);
            }
            if (behavior == Behavior.MERGED_WITH_NEXT) {
                mergeWithNext(segments, out);
            } else {
                boolean previousMatch = false;
                for (int i = 0; i < segments.size(); i += 3) {
                    boolean match = segments.get(i + 2) == 1;
                    boolean merge = switch (behavior) {
                        case MERGED_WITH_PREVIOUS -> match && !previousMatch;
                        case CONTIGUOUS -> match == previousMatch;
                        default -> false;
                    };
                    if (merge && out.size() > 0) {
                        out.set(out.size() - 1, segments.get(i + 1));
                    } else if (!(match && behavior == Behavior.REMOVED)) {
                        out.add(segments.get(i), segments.get(i + 1));
                    }
                    previousMatch = match;
                }
            }
        }

        /** MergedWithNext: a match joins the segment after it (walking backwards, as HF does). */
        private static void mergeWithNext(IntList segments, IntList out) {
            IntList reversed = new IntList(segments.size());
            boolean nextMatch = false;
            for (int i = segments.size() - 3; i >= 0; i -= 3) {
                boolean match = segments.get(i + 2) == 1;
                if (match && !nextMatch && reversed.size() > 0) {
                    reversed.set(reversed.size() - 2, segments.get(i));
                } else {
                    reversed.add(segments.get(i), segments.get(i + 1));
                }
                nextMatch = match;
            }
            for (int i = reversed.size() - 2; i >= 0; i -= 2) {
                out.add(reversed.get(i), reversed.get(i + 1));
            }
        }
    }
}
