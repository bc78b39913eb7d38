package io.moestream.operators.records;

/**
 * A request as it arrived, before decoding: the record's bytes and where it came from (a Kafka topic, partition and
 * offset, or a file and line), so that a dead letter can keep all of it.
 */
public class RawRecord {
    public byte[] key;
    public byte[] value;
    public String topic;
    public int partition;
    public long offset;
    public long timestamp;

    public RawRecord() {}

    public RawRecord(byte[] key, byte[] value, String topic, int partition, long offset, long timestamp) {
        this.key = key;
        this.value = value;
        this.topic = topic;
        this.partition = partition;
        this.offset = offset;
        this.timestamp = timestamp;
    }
}
