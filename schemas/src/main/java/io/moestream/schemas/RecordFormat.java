package io.moestream.schemas;

/** One record type in one wire format. Implementations are thread-safe. */
interface RecordFormat<T> {
    byte[] encode(T record);

    T decode(byte[] value) throws DecodeException;
}
