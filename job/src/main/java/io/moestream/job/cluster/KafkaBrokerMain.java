package io.moestream.job.cluster;

import io.moestream.job.kafka.EmbeddedKafka;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.CountDownLatch;

/**
 * The local cluster's Kafka broker as a process of its own: a single-node KRaft broker (Kafka's own test kit, {@link
 * EmbeddedKafka}) on a free port, whose address it writes to the file named by its argument once it serves, and which
 * runs until the process is stopped (a shutdown hook stops the broker and deletes its data).
 */
public final class KafkaBrokerMain {
    private KafkaBrokerMain() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: KafkaBrokerMain BOOTSTRAP_FILE");
            System.exit(2);
        }
        EmbeddedKafka kafka = EmbeddedKafka.start();
        Path file = Path.of(args[0]);
        // Written then moved, so that a reader never sees half an address.
        Path partial = file.resolveSibling(file.getFileName() + ".partial");
        Files.writeString(partial, kafka.bootstrapServers(), StandardCharsets.UTF_8);
        Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        new CountDownLatch(1).await();
    }
}
