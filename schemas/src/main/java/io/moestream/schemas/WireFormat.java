package io.moestream.schemas;

/** How the records of one Kafka topic are written; chosen per topic. */
public enum WireFormat {
    /**
     * Avro single-object encoding: the marker {@code C3 01}, the schema's 8-byte little-endian CRC-64-AVRO fingerprint,
     * then the Avro binary body. Compact, and readers resolve records written with older schemas they know.
     */
    AVRO,
    /** UTF-8 JSON objects with the schema's field names (DESIGN.md section 5): readable, and easy to produce by hand. */
    JSON
}
