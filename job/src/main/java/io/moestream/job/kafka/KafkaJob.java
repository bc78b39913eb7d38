package io.moestream.job.kafka;

import io.moestream.job.FileJob;
import io.moestream.job.topology.MoeStreamTopology;
import io.moestream.operators.MoeStreamOptions;
import io.moestream.operators.records.DeadLetter;
import io.moestream.operators.records.EncodedRecord;
import io.moestream.operators.records.RawRecord;
import io.moestream.schemas.DeadLetterCodec;
import io.moestream.schemas.WireFormat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * The job as its users deploy it: requests from a Kafka topic, completions and dead letters to Kafka topics, exactly
 * once (transactional sinks; readers use {@code read_committed}). With stopping offsets it is a backfill: a bounded
 * job that ends when the range is done.
 */
public final class KafkaJob {
    /** Kafka transactions must outlive the longest checkpoint interval plus recovery; brokers cap them at 15 min. */
    private static final String TRANSACTION_TIMEOUT_MS = "600000";

    private KafkaJob() {}

    /** Adds the Kafka source, the topology and the Kafka sinks to {@code env}. */
    public static void build(StreamExecutionEnvironment env, Configuration options) throws IOException {
        String bootstrap = options.getOptional(KafkaOptions.BOOTSTRAP_SERVERS)
                .orElseThrow(() -> new IllegalArgumentException(KafkaOptions.BOOTSTRAP_SERVERS.key() + " is not set"));
        Properties client = KafkaOptions.clientProperties(options);
        String requestsTopic = options.get(KafkaOptions.REQUESTS_TOPIC);

        KafkaSourceBuilder<RawRecord> source = KafkaSource.<RawRecord>builder()
                .setBootstrapServers(bootstrap)
                .setTopics(requestsTopic)
                .setGroupId(options.get(KafkaOptions.GROUP_ID))
                .setProperties(client)
                // Requests written by transactional producers: only committed ones.
                .setProperty("isolation.level", "read_committed")
                .setStartingOffsets(offsets(options.get(KafkaOptions.STARTING_OFFSETS), requestsTopic, true))
                .setDeserializer(new RawRecordDeserializer());
        String stopping = options.get(KafkaOptions.STOPPING_OFFSETS);
        boolean bounded = !stopping.equals("none");
        if (bounded) {
            source.setBounded(offsets(stopping, requestsTopic, false));
        }
        // The group's offsets are for monitoring a long-running job; a backfill (fresh group) has no use for them.
        source.setProperty("commit.offsets.on.checkpoint", String.valueOf(!bounded));
        DataStream<RawRecord> requests = env.fromSource(source.build(), WatermarkStrategy.noWatermarks(), "requests")
                .uid("kafka-requests");

        MoeStreamTopology.Outputs outputs = MoeStreamTopology.build(requests, options);
        String prefix = options.get(KafkaOptions.TRANSACTIONAL_ID_PREFIX);
        outputs.completions()
                .sinkTo(sink(
                        bootstrap,
                        client,
                        prefix + "-completions",
                        new CompletionRecords(options.get(KafkaOptions.COMPLETIONS_TOPIC))))
                .name("CompletionsToKafka")
                .uid("kafka-completions");
        outputs.deadLetters()
                .sinkTo(sink(
                        bootstrap,
                        client,
                        prefix + "-dead-letters",
                        new DeadLetterRecords(
                                options.get(KafkaOptions.DEAD_LETTERS_TOPIC),
                                options.get(MoeStreamOptions.DEAD_LETTER_FORMAT))))
                .name("DeadLettersToKafka")
                .uid("kafka-dead-letters");
    }

    /** A streaming environment for the job with the {@link FileJob#jobConfiguration} (checkpoints, restarts). */
    public static StreamExecutionEnvironment environment(Configuration options) {
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(FileJob.jobConfiguration(options));
        env.setMaxParallelism(FileJob.MAX_PARALLELISM);
        return env;
    }

    private static <T> KafkaSink<T> sink(
            String bootstrap,
            Properties client,
            String transactionalIdPrefix,
            KafkaRecordSerializationSchema<T> records) {
        return KafkaSink.<T>builder()
                .setBootstrapServers(bootstrap)
                .setKafkaProducerConfig(client)
                .setProperty("transaction.timeout.ms", TRANSACTION_TIMEOUT_MS)
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(transactionalIdPrefix)
                .setRecordSerializer(records)
                .build();
    }

    /**
     * Parses an offsets setting: earliest, latest, committed, timestamp:MILLIS, or offsets:P=O,P=O for {@code topic}.
     */
    @SuppressWarnings("deprecation") // OffsetResetStrategy is the connector's only way to fall back to earliest
    static OffsetsInitializer offsets(String spec, String topic, boolean starting) {
        if (spec.equals("earliest")) {
            return OffsetsInitializer.earliest();
        }
        if (spec.equals("latest")) {
            return OffsetsInitializer.latest();
        }
        if (spec.equals("committed") && starting) {
            return OffsetsInitializer.committedOffsets(org.apache.kafka.clients.consumer.OffsetResetStrategy.EARLIEST);
        }
        if (spec.startsWith("timestamp:")) {
            return OffsetsInitializer.timestamp(Long.parseLong(spec.substring("timestamp:".length())));
        }
        if (spec.startsWith("offsets:")) {
            Map<TopicPartition, Long> offsets = new HashMap<>();
            for (String pair : spec.substring("offsets:".length()).split(",")) {
                String[] po = pair.split("=");
                if (po.length != 2) {
                    throw new IllegalArgumentException("offsets must be P=O pairs, got '" + pair + "'");
                }
                offsets.put(new TopicPartition(topic, Integer.parseInt(po[0].trim())), Long.parseLong(po[1].trim()));
            }
            return OffsetsInitializer.offsets(offsets);
        }
        throw new IllegalArgumentException("unknown " + (starting ? "starting" : "stopping") + " offsets '" + spec
                + "' (earliest, latest, " + (starting ? "committed, " : "") + "timestamp:MILLIS, offsets:P=O,...)");
    }

    /** Kafka records as {@link RawRecord}s, with the coordinates a dead letter keeps. */
    static final class RawRecordDeserializer implements KafkaRecordDeserializationSchema<RawRecord> {
        private static final long serialVersionUID = 1L;

        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawRecord> out) {
            out.collect(new RawRecord(
                    record.key(),
                    record.value(),
                    record.topic(),
                    record.partition(),
                    record.offset(),
                    record.timestamp()));
        }

        @Override
        public TypeInformation<RawRecord> getProducedType() {
            return TypeInformation.of(RawRecord.class);
        }
    }

    /** Completions keyed by request id. */
    record CompletionRecords(String topic) implements KafkaRecordSerializationSchema<EncodedRecord> {
        @Override
        public ProducerRecord<byte[], byte[]> serialize(EncodedRecord r, KafkaSinkContext context, Long timestamp) {
            return new ProducerRecord<>(topic, r.key.getBytes(StandardCharsets.UTF_8), r.value);
        }
    }

    /** Dead letters with the original bytes and coordinates, keyed like the original record. */
    static final class DeadLetterRecords implements KafkaRecordSerializationSchema<DeadLetter> {
        private static final long serialVersionUID = 1L;
        private final String topic;
        private final WireFormat format;
        private transient DeadLetterCodec codec;

        DeadLetterRecords(String topic, WireFormat format) {
            this.topic = topic;
            this.format = format;
        }

        @Override
        public void open(SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) {
            codec = DeadLetterCodec.create(format);
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(DeadLetter letter, KafkaSinkContext context, Long timestamp) {
            RawRecord original = letter.original;
            io.moestream.schemas.avro.DeadLetter record = io.moestream.schemas.avro.DeadLetter.newBuilder()
                    .setCode(letter.code)
                    .setMessage(letter.message)
                    .setOriginal(java.nio.ByteBuffer.wrap(original.value == null ? new byte[0] : original.value))
                    .setOriginalKey(original.key == null ? null : java.nio.ByteBuffer.wrap(original.key))
                    .setTopic(original.topic)
                    .setPartition(original.partition < 0 ? null : original.partition)
                    .setOffset(original.offset < 0 ? null : original.offset)
                    .setTimestamp(original.timestamp <= 0 ? null : original.timestamp)
                    .build();
            return new ProducerRecord<>(topic, original.key, codec.encode(record));
        }
    }
}
