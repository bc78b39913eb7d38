package io.moestream.job.cli;

import io.moestream.job.kafka.KafkaOptions;
import io.moestream.operators.MoeStreamOptions;
import io.moestream.schemas.WireFormat;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * Where the Kafka commands ({@code run-kafka}, {@code backfill}) read and write. A named option wins over the same
 * setting given with {@code -D}; a setting given neither way takes its default from {@link KafkaOptions}. Kafka client
 * settings (security.protocol, sasl.*, ssl.*) pass through as {@code -D moestream.kafka.properties.<key>=<value>}.
 */
final class KafkaJobOptions {
    /** How long the launcher waits for Kafka when it checks the topics before starting Flink. */
    static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

    @Option(
            names = "--bootstrap",
            required = true,
            paramLabel = "HOST:PORT",
            description = "Kafka bootstrap servers, HOST:PORT[,HOST:PORT...].")
    String bootstrap;

    @Option(
            names = "--requests-topic",
            paramLabel = "TOPIC",
            description = "Topic of the requests (default: requests).")
    String requestsTopic;

    @Option(
            names = "--completions-topic",
            paramLabel = "TOPIC",
            description = "Topic of the completions, written exactly once (default: completions).")
    String completionsTopic;

    @Option(
            names = "--dead-letters-topic",
            paramLabel = "TOPIC",
            description = "Topic of the dead letters, written exactly once (default: dead-letters).")
    String deadLettersTopic;

    @Option(
            names = "--group-id",
            paramLabel = "GROUP",
            description = "Consumer group of the job's Kafka source (default: moestream for run-kafka, a new one for "
                    + "each backfill).")
    String groupId;

    @Option(
            names = "--format",
            paramLabel = "json|avro",
            description = "Wire format of all three topics (default: json); -D moestream.requests.format, "
                    + "moestream.completions.format or moestream.dead-letters.format sets one of them.")
    String format;

    @Option(
            names = "--parallelism",
            paramLabel = "P",
            defaultValue = "1",
            description = "Parallelism of every operator (default: ${DEFAULT-VALUE}).")
    int parallelism;

    /** Checks the values that picocli cannot. */
    void validate(CommandSpec spec) {
        if (parallelism < 1) {
            throw new ParameterException(spec.commandLine(), "--parallelism must be at least 1, got " + parallelism);
        }
        if (bootstrap.isBlank()) {
            throw new ParameterException(spec.commandLine(), "--bootstrap must not be empty");
        }
        if (format != null) {
            wireFormat(spec);
        }
    }

    private WireFormat wireFormat(CommandSpec spec) {
        try {
            return WireFormat.valueOf(format.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--format must be json or avro, got '" + format + "'");
        }
    }

    /**
     * The job's options: the {@code -D} settings, then the named options on top, then the model directory.
     *
     * @param defaultGroupId the group id when neither {@code --group-id} nor {@code -D moestream.kafka.group-id} says
     */
    Configuration configuration(CommandSpec spec, FlinkOptions flink, String modelDir, String defaultGroupId) {
        Configuration options = flink.toConfiguration();
        options.set(KafkaOptions.BOOTSTRAP_SERVERS, bootstrap.trim());
        setIfGiven(options, KafkaOptions.REQUESTS_TOPIC, requestsTopic);
        setIfGiven(options, KafkaOptions.COMPLETIONS_TOPIC, completionsTopic);
        setIfGiven(options, KafkaOptions.DEAD_LETTERS_TOPIC, deadLettersTopic);
        setIfGiven(options, KafkaOptions.GROUP_ID, groupId);
        if (!options.contains(KafkaOptions.GROUP_ID) && defaultGroupId != null) {
            options.set(KafkaOptions.GROUP_ID, defaultGroupId);
        }
        if (format != null) {
            WireFormat wire = wireFormat(spec);
            for (ConfigOption<WireFormat> topicFormat : List.of(
                    MoeStreamOptions.REQUEST_FORMAT,
                    MoeStreamOptions.COMPLETION_FORMAT,
                    MoeStreamOptions.DEAD_LETTER_FORMAT)) {
                if (!flink.settings.containsKey(topicFormat.key())) {
                    options.set(topicFormat, wire);
                }
            }
        }
        options.set(MoeStreamOptions.MODEL_DIR, modelDir);
        return options;
    }

    private static void setIfGiven(Configuration options, ConfigOption<String> option, String value) {
        if (value != null) {
            options.set(option, value);
        }
    }

    /** An admin client for the job's Kafka, with the job's client properties and the launcher's timeouts. */
    static Admin admin(Configuration options) {
        Properties properties = KafkaOptions.clientProperties(options);
        properties.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, options.get(KafkaOptions.BOOTSTRAP_SERVERS));
        properties.putIfAbsent(
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Long.toString(ADMIN_TIMEOUT.toMillis()));
        // Kafka refuses a request timeout above the API timeout.
        long apiTimeout = Long.parseLong(properties
                .getProperty(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG)
                .trim());
        properties.putIfAbsent(
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Long.toString(Math.min(10_000, apiTimeout)));
        properties.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "moestream-launcher");
        try {
            return Admin.create(properties);
        } catch (KafkaException e) {
            throw new IllegalArgumentException(
                    "bad Kafka client settings (-D " + KafkaOptions.CLIENT_PROPERTIES_PREFIX + "*): "
                            + ErrorMessages.oneLine(rootMessage(e)),
                    e);
        }
    }

    /**
     * Checks, before Flink starts, that Kafka answers and that the requests topic exists (a Kafka source on a missing
     * topic would wait silently); warns on {@code err} about missing output topics, which the broker may create.
     *
     * @return the requests topic's description
     */
    static TopicDescription checkTopics(Admin admin, Configuration options, PrintWriter err)
            throws IOException, InterruptedException {
        String bootstrap = options.get(KafkaOptions.BOOTSTRAP_SERVERS);
        String requests = options.get(KafkaOptions.REQUESTS_TOPIC);
        List<String> missing = new ArrayList<>();
        TopicDescription description = null;
        for (String topic : List.of(
                requests, options.get(KafkaOptions.COMPLETIONS_TOPIC), options.get(KafkaOptions.DEAD_LETTERS_TOPIC))) {
            TopicDescription found = describe(admin, bootstrap, topic);
            if (found == null) {
                missing.add(topic);
            } else if (topic.equals(requests)) {
                description = found;
            }
        }
        if (description == null) {
            throw new IOException("the requests topic '" + requests + "' does not exist on " + bootstrap
                    + " (create it, or name another with --requests-topic)");
        }
        if (!missing.isEmpty()) {
            err.println("moestream: warning: topic(s) " + String.join(", ", missing) + " do not exist on " + bootstrap
                    + "; the job's producers fail unless the broker creates topics on first use");
        }
        return description;
    }

    /** The topic's description, or null if it does not exist. */
    private static TopicDescription describe(Admin admin, String bootstrap, String topic)
            throws IOException, InterruptedException {
        try {
            Map<String, TopicDescription> topics = admin.describeTopics(List.of(topic))
                    .allTopicNames()
                    .get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return topics.get(topic);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                return null;
            }
            throw new IOException(
                    "cannot reach Kafka at " + bootstrap + ": " + ErrorMessages.oneLine(rootMessage(e)), e);
        } catch (TimeoutException e) {
            throw new IOException(
                    "cannot reach Kafka at " + bootstrap + ": no answer within " + ADMIN_TIMEOUT.toSeconds() + " s");
        }
    }

    /** The message of the innermost cause, with its type when it has none. */
    static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName();
    }
}
