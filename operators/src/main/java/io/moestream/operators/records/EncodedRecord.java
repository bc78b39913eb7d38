package io.moestream.operators.records;

/** An output record in its wire format: the key (the request id) and the encoded value. */
public class EncodedRecord {
    public String key;
    public byte[] value;

    public EncodedRecord() {}

    public EncodedRecord(String key, byte[] value) {
        this.key = key;
        this.value = value;
    }
}
