package io.moestream.job.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** What the Kafka tests do around the job: create its topics, produce requests, read what it committed. */
public final class KafkaTestClients {
    private KafkaTestClients() {}

    /** Topics {@code prefix-requests} (2 partitions), {@code prefix-completions} (2), {@code prefix-dead-letters}. */
    public static void createJobTopics(EmbeddedKafka kafka, String prefix) throws Exception {
        kafka.createTopic(prefix + "-requests", 2);
        kafka.createTopic(prefix + "-completions", 2);
        kafka.createTopic(prefix + "-dead-letters", 1);
    }

    /** Sends {@code {key, value}} pairs to {@code topic} and waits until they are written. */
    public static void produce(EmbeddedKafka kafka, String topic, List<byte[][]> keyValues) {
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (byte[][] kv : keyValues) {
                producer.send(new ProducerRecord<>(topic, kv[0], kv[1]));
            }
        }
    }

    /**
     * Everything committed on {@code topic} (read_committed, from the beginning), until {@code expected} records
     * arrived and then nothing more for two seconds (to catch duplicates), or the timeout.
     */
    public static List<ConsumerRecord<byte[], byte[]>> readCommitted(
            EmbeddedKafka kafka, String topic, int expected, Duration timeout) {
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        p.put("isolation.level", "read_committed");
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(info -> new TopicPartition(topic, info.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + timeout.toNanos();
            long quietUntil = Long.MAX_VALUE;
            while (System.nanoTime() < deadline && System.nanoTime() < quietUntil) {
                consumer.poll(Duration.ofMillis(100)).forEach(records::add);
                if (records.size() >= expected && quietUntil == Long.MAX_VALUE) {
                    quietUntil = System.nanoTime() + Duration.ofSeconds(2).toNanos();
                }
            }
        }
        return records;
    }
}
