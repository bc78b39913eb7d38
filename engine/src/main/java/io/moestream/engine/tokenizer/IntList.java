package io.moestream.engine.tokenizer;

import java.util.Arrays;

/** A growable list of primitive ints, so that hot paths do not box. */
final class IntList {
    private int[] values;
    private int size;

    IntList(int initialCapacity) {
        values = new int[Math.max(initialCapacity, 4)];
    }

    void add(int value) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = value;
    }

    void add(int first, int second) {
        add(first);
        add(second);
    }

    void addAll(int[] source) {
        if (size + source.length > values.length) {
            values = Arrays.copyOf(values, Math.max(size * 2, size + source.length));
        }
        System.arraycopy(source, 0, values, size, source.length);
        size += source.length;
    }

    int get(int index) {
        return values[index];
    }

    void set(int index, int value) {
        values[index] = value;
    }

    int size() {
        return size;
    }

    void clear() {
        size = 0;
    }

    int[] toArray() {
        return Arrays.copyOf(values, size);
    }
}
