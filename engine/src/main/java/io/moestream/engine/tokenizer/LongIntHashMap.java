package io.moestream.engine.tokenizer;

import java.util.Arrays;

/**
 * An open-addressing map from long keys to non-negative int values: the BPE merge table (127k pairs)
 * and the added-token trie are looked up once per symbol pair or character, where boxed keys would
 * dominate the cost.
 */
final class LongIntHashMap {
    static final int MISSING = -1;
    private static final long EMPTY = Long.MIN_VALUE;

    private long[] keys;
    private int[] values;
    private int size;

    LongIntHashMap(int expectedSize) {
        int capacity = Integer.highestOneBit(Math.max(expectedSize, 8) * 2 - 1) << 1;
        keys = new long[capacity];
        values = new int[capacity];
        Arrays.fill(keys, EMPTY);
    }

    /** Returns the value of {@code key}, or {@link #MISSING}. */
    int get(long key) {
        int mask = keys.length - 1;
        for (int slot = mix(key) & mask; ; slot = (slot + 1) & mask) {
            long current = keys[slot];
            if (current == key) {
                return values[slot];
            }
            if (current == EMPTY) {
                return MISSING;
            }
        }
    }

    /** Sets {@code key} to {@code value} (a later put of the same key wins, like a HashMap). */
    void put(long key, int value) {
        if (key == EMPTY || value < 0) {
            throw new IllegalArgumentException("unsupported entry " + key + " -> " + value);
        }
        if (2 * (size + 1) > keys.length) {
            grow();
        }
        int mask = keys.length - 1;
        int slot = mix(key) & mask;
        while (keys[slot] != EMPTY && keys[slot] != key) {
            slot = (slot + 1) & mask;
        }
        if (keys[slot] == EMPTY) {
            size++;
        }
        keys[slot] = key;
        values[slot] = value;
    }

    private void grow() {
        long[] oldKeys = keys;
        int[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new int[oldValues.length * 2];
        Arrays.fill(keys, EMPTY);
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != EMPTY) {
                put(oldKeys[i], oldValues[i]);
            }
        }
    }

    private static int mix(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }
}
