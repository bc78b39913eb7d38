package io.moestream.job.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The in-process broker is a real Kafka: transactions commit and abort, and it can be stopped and started again. */
@Timeout(60)
class EmbeddedKafkaTest {
    private static final String TOPIC = "requests";
    private static final int PARTITIONS = 3;

    @Test
    void readCommittedConsumerSeesOnlyTheCommittedTransaction() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopic(TOPIC, PARTITIONS);
            List<String> committed = values("committed", 50);
            try (KafkaProducer<String, String> producer = transactionalProducer(kafka)) {
                producer.initTransactions();
                producer.beginTransaction();
                committed.forEach(value -> producer.send(new ProducerRecord<>(TOPIC, value, value)));
                producer.commitTransaction();
                producer.beginTransaction();
                values("aborted", 50).forEach(value -> producer.send(new ProducerRecord<>(TOPIC, value, value)));
                producer.flush();
                producer.abortTransaction();
            }
            List<String> read = readAllCommitted(kafka);
            assertEquals(
                    committed.stream().sorted().toList(), read.stream().sorted().toList());
        }
    }

    @Test
    void closeFreesThePortAndTheDataAndASecondBrokerStarts() throws Exception {
        EmbeddedKafka first = EmbeddedKafka.start();
        int port = port(first.bootstrapServers());
        Path data = first.dataDirectory();
        first.close();
        first.close();
        assertFalse(Files.exists(data), "data directory deleted");
        for (InetAddress address : InetAddress.getAllByName("localhost")) {
            try (ServerSocket socket = new ServerSocket()) {
                socket.bind(new InetSocketAddress(address, port));
            }
        }

        try (EmbeddedKafka second = EmbeddedKafka.start()) {
            assertTrue(second.bootstrapServers().startsWith("localhost:"), second.bootstrapServers());
            second.createTopic(TOPIC, 1);
        }
    }

    private static List<String> values(String prefix, int count) {
        return IntStream.range(0, count).mapToObj(i -> prefix + "-" + i).toList();
    }

    private static KafkaProducer<String, String> transactionalProducer(EmbeddedKafka kafka) {
        return new KafkaProducer<>(
                Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        kafka.bootstrapServers(),
                        ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                        "embedded-kafka-test"),
                new StringSerializer(),
                new StringSerializer());
    }

    /** Every record up to the last stable offset of each partition, read without a consumer group. */
    private static List<String> readAllCommitted(EmbeddedKafka kafka) {
        List<TopicPartition> partitions = IntStream.range(0, PARTITIONS)
                .mapToObj(partition -> new TopicPartition(TOPIC, partition))
                .toList();
        List<String> read = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(
                Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
                new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(partition -> consumer.position(partition) < ends.get(partition))) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    read.add(record.value());
                }
            }
        }
        return read;
    }

    private static int port(String bootstrapServers) {
        return Integer.parseInt(bootstrapServers.substring(bootstrapServers.lastIndexOf(':') + 1));
    }
}
