package io.moestream.job.kafka;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kafka cluster inside this JVM, for the launcher's demo and the tests: one KRaft node that is both broker and
 * controller, listening on free loopback ports, with its data in a temporary directory. Transactions work on it (the
 * internal topics have one replica). Close it: the broker's threads keep the JVM alive. If the JVM exits first (as
 * on Ctrl-C), a shutdown hook stops the broker and deletes its data.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);
    private static final Duration TOPIC_TIMEOUT = Duration.ofSeconds(30);
    /** Stopping takes well under a second; past this the broker's threads are left to die with the JVM. */
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    /**
     * What one node needs (Kafka's defaults assume three): one replica and one in-sync replica for every internal
     * topic, and one partition each, as there is no other broker to spread the coordinators over.
     */
    private static final Map<String, String> SINGLE_NODE_SETTINGS = Map.ofEntries(
            Map.entry("offsets.topic.replication.factor", "1"),
            Map.entry("offsets.topic.num.partitions", "1"),
            Map.entry("transaction.state.log.replication.factor", "1"),
            Map.entry("transaction.state.log.min.isr", "1"),
            Map.entry("transaction.state.log.num.partitions", "1"),
            Map.entry("share.coordinator.state.topic.replication.factor", "1"),
            Map.entry("share.coordinator.state.topic.min.isr", "1"),
            Map.entry("share.coordinator.state.topic.num.partitions", "1"),
            // No other consumer will join: don't wait the default 3 s before the first assignment.
            Map.entry("group.initial.rebalance.delay.ms", "0"),
            // Flink's exactly-once Kafka sink may ask for transactions longer than the default cap of 15 minutes.
            Map.entry("transaction.max.timeout.ms", Long.toString(TimeUnit.HOURS.toMillis(1))),
            // Behave like a released broker, not like Kafka's test builds.
            Map.entry("unstable.api.versions.enable", "false"),
            Map.entry("unstable.feature.versions.enable", "false"));

    private final KafkaClusterTestKit cluster;
    private final Path dataDirectory;
    private final String bootstrapServers;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread closeOnExit = new Thread(this::close, "embedded-kafka-close-on-exit");

    private EmbeddedKafka(KafkaClusterTestKit cluster, Path dataDirectory) {
        this.cluster = cluster;
        this.dataDirectory = dataDirectory;
        this.bootstrapServers = cluster.bootstrapServers();
        Runtime.getRuntime().addShutdownHook(closeOnExit);
    }

    /** Starts a single-node KRaft cluster (combined broker and controller) on a free localhost port. */
    public static EmbeddedKafka start() throws Exception {
        Path dataDirectory = Files.createTempDirectory("moestream-kafka-");
        KafkaClusterTestKit cluster;
        try {
            TestKitNodes nodes = new TestKitNodes.Builder()
                    .setCombined(true)
                    .setNumBrokerNodes(1)
                    .setNumControllerNodes(1)
                    .setBootstrapMetadataVersion(MetadataVersion.latestProduction())
                    .setBaseDirectory(dataDirectory)
                    .build();
            // This class deletes the data itself, also when the broker does not stop in time.
            KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(nodes).setDeleteOnClose(false);
            SINGLE_NODE_SETTINGS.forEach(builder::setConfigProp);
            cluster = builder.build();
        } catch (Exception e) {
            deleteRecursively(dataDirectory);
            throw e;
        }
        try {
            formatWithoutPrinting(cluster);
            cluster.startup();
            cluster.waitForReadyBrokers();
            return new EmbeddedKafka(cluster, dataDirectory);
        } catch (Exception e) {
            stop(cluster, dataDirectory);
            throw e;
        }
    }

    /**
     * Writes the node's initial metadata. Kafka's formatter prints it to stdout, which belongs to the launcher's
     * output; synchronized so that two starts at once cannot leave {@code System.out} swapped.
     */
    private static synchronized void formatWithoutPrinting(KafkaClusterTestKit cluster) throws Exception {
        PrintStream stdout = System.out;
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        try {
            cluster.format();
        } finally {
            System.setOut(stdout);
        }
    }

    /** The broker's address for clients, {@code localhost:PORT}. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** Creates a topic with one replica per partition and waits until the broker serves every partition. */
    public void createTopic(String name, int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1)))
                    .all()
                    .get(TOPIC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            // The controller has created it; the broker learns of it a moment later.
            long deadline = System.nanoTime() + TOPIC_TIMEOUT.toNanos();
            while (!servesAllPartitions(admin, name, partitions)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Topic " + name + " was created but has no leader for each of its "
                            + partitions + " partitions after " + TOPIC_TIMEOUT.toSeconds() + " s");
                }
                Thread.sleep(20);
            }
        }
    }

    private static boolean servesAllPartitions(Admin admin, String name, int partitions) throws Exception {
        TopicDescription topic;
        try {
            topic = admin.describeTopics(List.of(name))
                    .allTopicNames()
                    .get(TOPIC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .get(name);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                return false;
            }
            throw e;
        }
        return topic.partitions().size() == partitions
                && topic.partitions().stream().allMatch(partition -> partition.leader() != null);
    }

    /** The directory that holds the cluster's logs and metadata; deleted by {@link #close()}. */
    Path dataDirectory() {
        return dataDirectory;
    }

    /** Stops the cluster and deletes its data. Idempotent; gives up waiting for the broker after 30 s. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(closeOnExit);
        } catch (IllegalStateException exiting) {
            // The JVM is exiting (this may be the hook itself): the hook is no longer registered or is running.
        }
        stop(cluster, dataDirectory);
    }

    private static void stop(KafkaClusterTestKit cluster, Path dataDirectory) {
        // On a thread of its own, so that a broker that does not stop cannot hold up the caller.
        Thread stopper = new Thread(
                () -> {
                    try {
                        cluster.close();
                    } catch (Exception e) {
                        LOG.warn("The embedded Kafka broker reported a fault while stopping", e);
                    }
                },
                "embedded-kafka-stop");
        stopper.setDaemon(true);
        stopper.start();
        try {
            stopper.join(CLOSE_TIMEOUT.toMillis());
            if (stopper.isAlive()) {
                LOG.warn("The embedded Kafka broker did not stop within {} s; leaving it", CLOSE_TIMEOUT.toSeconds());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            deleteRecursively(dataDirectory);
        }
    }

    private static void deleteRecursively(Path directory) {
        if (!Files.exists(directory)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            LOG.warn("Could not delete the embedded Kafka data in {}", directory, e);
        }
    }
}
