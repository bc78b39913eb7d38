package io.moestream.job.cli;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The state directory of {@code run-kafka}: the savepoint its last run stopped with, which the next run resumes from
 * (Kafka positions, requests in flight, the sinks' transactions), as Flink jobs are upgraded and restarted.
 */
final class SavepointStore {
    private static final String LATEST = "latest-savepoint";

    private final Path directory;

    SavepointStore(Path directory) {
        this.directory = directory;
    }

    /** {@code ~/.moestream/run-kafka/GROUP@TOPIC}: one per consumer group and requests topic. */
    static Path defaultDirectory(String groupId, String requestsTopic) {
        String name = (groupId + "@" + requestsTopic).replaceAll("[^A-Za-z0-9._@-]", "_");
        return Path.of(System.getProperty("user.home"), ".moestream", "run-kafka", name);
    }

    Path directory() {
        return directory;
    }

    /** The path of the savepoint to resume from, if one was remembered. */
    Optional<String> latest() throws IOException {
        Path pointer = directory.resolve(LATEST);
        if (!Files.isRegularFile(pointer)) {
            return Optional.empty();
        }
        String path = Files.readString(pointer, StandardCharsets.UTF_8).strip();
        return path.isEmpty() ? Optional.empty() : Optional.of(path);
    }

    /** Whether a savepoint path on the local file system still holds its metadata (other file systems: assumed). */
    static boolean exists(String savepoint) {
        Path local = localPath(savepoint);
        return local == null || Files.isRegularFile(local.resolve("_metadata"));
    }

    private static Path localPath(String savepoint) {
        try {
            URI uri = URI.create(savepoint);
            if (uri.getScheme() == null) {
                return Path.of(savepoint);
            }
            return "file".equals(uri.getScheme()) ? Path.of(uri) : null;
        } catch (IllegalArgumentException e) {
            return Path.of(savepoint);
        }
    }

    /** Remembers {@code savepoint} as the one to resume from, and deletes the older ones of this directory. */
    void remember(String savepoint) throws IOException {
        Files.createDirectories(directory);
        Path partial = Files.createTempFile(directory, LATEST, ".partial");
        Files.writeString(partial, savepoint + "\n", StandardCharsets.UTF_8);
        Files.move(partial, directory.resolve(LATEST), StandardCopyOption.ATOMIC_MOVE);
        Path kept = localPath(savepoint);
        try (DirectoryStream<Path> old = Files.newDirectoryStream(directory, "savepoint-*")) {
            for (Path path : old) {
                if (kept == null
                        || !path.toAbsolutePath()
                                .normalize()
                                .equals(kept.toAbsolutePath().normalize())) {
                    deleteRecursively(path);
                }
            }
        }
    }

    private static void deleteRecursively(Path directory) throws IOException {
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
