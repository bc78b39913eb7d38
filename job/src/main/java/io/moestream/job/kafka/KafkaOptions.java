package io.moestream.job.kafka;

import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;

/**
 * Where the Kafka job reads and writes, under {@code moestream.kafka.*}. Any Kafka client setting (security protocol,
 * SASL, TLS, ...) passes through as {@code moestream.kafka.properties.<kafka key>}.
 */
public final class KafkaOptions {
    public static final String CLIENT_PROPERTIES_PREFIX = "moestream.kafka.properties.";

    public static final ConfigOption<String> BOOTSTRAP_SERVERS = ConfigOptions.key("moestream.kafka.bootstrap-servers")
            .stringType()
            .noDefaultValue()
            .withDescription("Kafka bootstrap servers, HOST:PORT[,HOST:PORT...].");

    public static final ConfigOption<String> REQUESTS_TOPIC = ConfigOptions.key("moestream.kafka.topics.requests")
            .stringType()
            .defaultValue("requests")
            .withDescription("Topic of the requests (keys are request ids).");

    public static final ConfigOption<String> COMPLETIONS_TOPIC = ConfigOptions.key("moestream.kafka.topics.completions")
            .stringType()
            .defaultValue("completions")
            .withDescription("Topic of the completions, written exactly once (transactions).");

    public static final ConfigOption<String> DEAD_LETTERS_TOPIC = ConfigOptions.key(
                    "moestream.kafka.topics.dead-letters")
            .stringType()
            .defaultValue("dead-letters")
            .withDescription("Topic of the dead letters, written exactly once (transactions).");

    public static final ConfigOption<String> GROUP_ID = ConfigOptions.key("moestream.kafka.group-id")
            .stringType()
            .defaultValue("moestream")
            .withDescription("Consumer group; its offsets are committed on checkpoints (for monitoring: the job "
                    + "itself restores offsets from its checkpoints).");

    public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX = ConfigOptions.key(
                    "moestream.kafka.transactional-id-prefix")
            .stringType()
            .defaultValue("moestream")
            .withDescription("Stable prefix of the sinks' transactional ids; one per job, unchanged across "
                    + "restarts so that a restarted job aborts its predecessor's open transactions.");

    public static final ConfigOption<String> STARTING_OFFSETS = ConfigOptions.key("moestream.kafka.starting-offsets")
            .stringType()
            .defaultValue("committed")
            .withDescription("Where a fresh job starts: earliest, latest, committed (the group's offsets, else "
                    + "earliest), timestamp:MILLIS, or offsets:P=O,P=O (per partition).");

    public static final ConfigOption<String> STOPPING_OFFSETS = ConfigOptions.key("moestream.kafka.stopping-offsets")
            .stringType()
            .defaultValue("none")
            .withDescription("Where a backfill stops (the job ends when every partition reaches it): none "
                    + "(unbounded), latest (as of the start), timestamp:MILLIS, or offsets:P=O,P=O.");

    private KafkaOptions() {}

    /** The Kafka client properties given as {@code moestream.kafka.properties.*}. */
    public static Properties clientProperties(Configuration options) {
        Properties properties = new Properties();
        for (Map.Entry<String, String> e : options.toMap().entrySet()) {
            if (e.getKey().startsWith(CLIENT_PROPERTIES_PREFIX)) {
                properties.setProperty(e.getKey().substring(CLIENT_PROPERTIES_PREFIX.length()), e.getValue());
            }
        }
        return properties;
    }
}
