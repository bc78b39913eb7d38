package io.moestream.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code model} of a byte-level BPE tokenizer.json: turns one pre-tokenized piece into ids by
 * starting from its bytes and applying merges in HF's order, with a cache of pieces seen before.
 */
final class BytePairEncoding {
    /** Pieces that long (mostly runs without spaces) are rare and would only crowd the cache. */
    private static final int MAX_CACHED_PIECE_LENGTH = 256;

    private static final int CACHE_CAPACITY = 100_000;

    private final Map<String, Integer> vocab;
    private final int[] byteIds = new int[256];
    /** (left id, right id) → rank of the merge; rank r merges into {@code mergedIds[r]}. */
    private final LongIntHashMap mergeRanks;

    private final int[] mergedIds;
    private final boolean ignoreMerges;
    /** Filled until full, like HF's cache; concurrent because one tokenizer serves many threads. */
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private BytePairEncoding(
            Map<String, Integer> vocab, LongIntHashMap mergeRanks, int[] mergedIds, boolean ignoreMerges) {
        this.vocab = vocab;
        this.mergeRanks = mergeRanks;
        this.mergedIds = mergedIds;
        this.ignoreMerges = ignoreMerges;
        for (int b = 0; b < 256; b++) {
            Integer id = vocab.get(String.valueOf(ByteLevel.charOf(b)));
            if (id == null) {
                throw new IllegalArgumentException(String.format("model.vocab has no token for byte 0x%02X", b));
            }
            byteIds[b] = id;
        }
    }

    static BytePairEncoding fromJson(JsonNode model) {
        requireOption(model.path("type").asText("BPE").equals("BPE"), model, "type");
        requireOption(model.path("dropout").asDouble(0) == 0, model, "dropout");
        requireOption(model.path("continuing_subword_prefix").asText("").isEmpty(), model, "continuing_subword_prefix");
        requireOption(model.path("end_of_word_suffix").asText("").isEmpty(), model, "end_of_word_suffix");
        requireOption(!model.path("byte_fallback").asBoolean(false), model, "byte_fallback");
        JsonNode vocabNode = model.path("vocab");
        if (!vocabNode.isObject() || vocabNode.isEmpty()) {
            throw new IllegalArgumentException("model.vocab is missing or empty");
        }
        Map<String, Integer> vocab = new HashMap<>(vocabNode.size() * 2);
        for (Map.Entry<String, JsonNode> entry : vocabNode.properties()) {
            if (!entry.getValue().canConvertToInt() || entry.getValue().asInt() < 0) {
                throw new IllegalArgumentException("model.vocab has no valid id for '" + entry.getKey() + "'");
            }
            vocab.put(entry.getKey(), entry.getValue().asInt());
        }
        JsonNode merges = model.path("merges");
        LongIntHashMap ranks = new LongIntHashMap(merges.size());
        int[] mergedIds = new int[merges.size()];
        for (int rank = 0; rank < merges.size(); rank++) {
            String[] pair = mergePair(merges.get(rank));
            int left = vocabId(vocab, pair[0], rank);
            int right = vocabId(vocab, pair[1], rank);
            mergedIds[rank] = vocabId(vocab, pair[0] + pair[1], rank);
            ranks.put(pairKey(left, right), rank);
        }
        return new BytePairEncoding(
                vocab, ranks, mergedIds, model.path("ignore_merges").asBoolean(false));
    }

    Map<String, Integer> vocab() {
        return vocab;
    }

    /** Appends the ids of a pre-tokenized piece of text. */
    void encode(String piece, IntList ids) {
        int[] cached = cache.get(piece);
        if (cached != null) {
            ids.addAll(cached);
            return;
        }
        if (ignoreMerges) {
            Integer whole = vocab.get(ByteLevel.encode(piece));
            if (whole != null) {
                ids.add(whole);
                return;
            }
        }
        int[] merged = merge(piece.getBytes(StandardCharsets.UTF_8));
        if (piece.length() < MAX_CACHED_PIECE_LENGTH && cache.size() < CACHE_CAPACITY) {
            cache.put(piece, merged);
        }
        ids.addAll(merged);
    }

    /**
     * HF's Word::merge_all: a queue of adjacent pairs ordered by (rank, position); a popped pair is
     * merged if the two symbols there still form a pair with the same result, and the new symbol's
     * pairs with its neighbours join the queue. (Checking the result rather than the rank matters:
     * it is what HF does when two different pairs merge into the same token.)
     */
    private int[] merge(byte[] bytes) {
        int n = bytes.length;
        int[] symbols = new int[n]; // a merged-away symbol becomes -1
        int[] previous = new int[n];
        int[] next = new int[n]; // n when there is none
        for (int i = 0; i < n; i++) {
            symbols[i] = byteIds[bytes[i] & 0xFF];
            previous[i] = i - 1;
            next[i] = i + 1;
        }
        PairQueue queue = new PairQueue(2 * n);
        for (int i = 0; i + 1 < n; i++) {
            queue.offer(rankOf(symbols[i], symbols[i + 1]), i);
        }
        while (!queue.isEmpty()) {
            long top = queue.poll();
            int rank = (int) (top >>> 32);
            int position = (int) top;
            int right = next[position];
            if (symbols[position] < 0 || right == n) {
                continue;
            }
            int merged = mergedIds[rank];
            int currentRank = rankOf(symbols[position], symbols[right]);
            if (currentRank < 0 || mergedIds[currentRank] != merged) {
                continue; // outdated entry: a neighbour changed since it was queued
            }
            symbols[position] = merged;
            symbols[right] = -1;
            int after = next[right];
            next[position] = after;
            if (after < n) {
                previous[after] = position;
                queue.offer(rankOf(merged, symbols[after]), position);
            }
            if (previous[position] >= 0) {
                queue.offer(rankOf(symbols[previous[position]], merged), previous[position]);
            }
        }
        IntList result = new IntList(n);
        for (int i = 0; i < n; i = next[i]) {
            result.add(symbols[i]);
        }
        return result.toArray();
    }

    private int rankOf(int left, int right) {
        return mergeRanks.get(pairKey(left, right));
    }

    private static long pairKey(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private static String[] mergePair(JsonNode merge) {
        if (merge.isArray() && merge.size() == 2) {
            return new String[] {merge.get(0).asText(), merge.get(1).asText()};
        }
        String[] parts = merge.asText().split(" ", -1);
        if (parts.length != 2) {
            throw new IllegalArgumentException("model.merges entry is not a pair: " + merge);
        }
        return parts;
    }

    private static int vocabId(Map<String, Integer> vocab, String token, int rank) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new IllegalArgumentException(
                    "model.merges[" + rank + "] uses '" + token + "', which is not in model.vocab");
        }
        return id;
    }

    private static void requireOption(boolean supported, JsonNode model, String option) {
        if (!supported) {
            throw new IllegalArgumentException("unsupported BPE model." + option + ": " + model.get(option));
        }
    }

    /** A binary min-heap of (rank, position) packed into longs, so the order is rank, then position. */
    private static final class PairQueue {
        private long[] heap;
        private int size;

        PairQueue(int capacity) {
            heap = new long[Math.max(capacity, 4)];
        }

        /** Queues a pair unless its rank is negative (no such merge). */
        void offer(int rank, int position) {
            if (rank < 0) {
                return;
            }
            if (size == heap.length) {
                heap = Arrays.copyOf(heap, size * 2);
            }
            long entry = ((long) rank << 32) | position;
            int i = size++;
            while (i > 0 && heap[(i - 1) / 2] > entry) {
                heap[i] = heap[(i - 1) / 2];
                i = (i - 1) / 2;
            }
            heap[i] = entry;
        }

        boolean isEmpty() {
            return size == 0;
        }

        long poll() {
            long top = heap[0];
            long last = heap[--size];
            int i = 0;
            while (2 * i + 1 < size) {
                int child = 2 * i + 1;
                if (child + 1 < size && heap[child + 1] < heap[child]) {
                    child++;
                }
                if (heap[child] >= last) {
                    break;
                }
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = last;
            return top;
        }
    }
}
