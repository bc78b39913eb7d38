package io.moestream.job.cli;

import io.moestream.job.FileJob;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The launcher's local Flink cluster for the Kafka commands: a MiniCluster with its web UI (REST endpoint; no jar
 * submission) on localhost, on the first free port from 8081 unless {@code -D rest.port} or {@code -D rest.bind-port}
 * says otherwise; and the two ways to stop a job: with a savepoint (to resume from), or by cancelling it.
 */
final class LocalFlink {
    static final int FIRST_WEB_PORT = 8081;
    static final int LAST_WEB_PORT = 8180;

    private final StreamExecutionEnvironment environment;
    private final String webAddress;

    private LocalFlink(StreamExecutionEnvironment environment, String webAddress) {
        this.environment = environment;
        this.webAddress = webAddress;
    }

    /** A local environment for the job with {@code options} ({@link FileJob#jobConfiguration}) at {@code parallelism}. */
    static LocalFlink create(Configuration options, int parallelism) {
        Configuration config = FileJob.jobConfiguration(options);
        String web = configureRest(config);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(config);
        env.setParallelism(parallelism);
        env.setMaxParallelism(FileJob.MAX_PARALLELISM);
        return new LocalFlink(env, web);
    }

    StreamExecutionEnvironment environment() {
        return environment;
    }

    /** Where the web UI is: {@code web UI: http://localhost:8081} (or the REST API, without the web UI's files). */
    String webLine() {
        String address = webAddress != null ? webAddress : "on a port of rest.bind-port";
        if (hasWebUi()) {
            return "web UI: " + address;
        }
        return "REST API: " + address + " (no web UI: flink-runtime-web is not on the classpath)";
    }

    /** Whether Flink's web UI (flink-runtime-web) is on the classpath; without it, the REST API alone is served. */
    static boolean hasWebUi() {
        return LocalFlink.class.getClassLoader().getResource("web/index.html") != null;
    }

    /**
     * Binds the REST endpoint (and web UI) to localhost, without jar submission, on the first free port from {@link
     * #FIRST_WEB_PORT}; each of these unless the settings choose.
     *
     * @return the web UI's address, or null when the settings choose a port range or a random port
     */
    private static String configureRest(Configuration config) {
        if (!config.contains(RestOptions.BIND_ADDRESS)) {
            config.set(RestOptions.BIND_ADDRESS, "localhost");
        }
        if (!config.contains(RestOptions.ADDRESS)) {
            config.set(RestOptions.ADDRESS, "localhost");
        }
        // The web UI shows and cancels this job; it does not take jars to run in this JVM.
        if (!config.contains(WebOptions.SUBMIT_ENABLE)) {
            config.set(WebOptions.SUBMIT_ENABLE, false);
        }
        if (config.contains(RestOptions.BIND_PORT)) { // rest.bind-port, or rest.port (its fallback)
            String port = config.get(RestOptions.BIND_PORT).trim();
            return port.matches("[1-9][0-9]*") ? "http://localhost:" + port : null;
        }
        for (int port = FIRST_WEB_PORT; port <= LAST_WEB_PORT; port++) {
            if (isFree(port)) {
                config.set(RestOptions.PORT, port);
                return "http://localhost:" + port;
            }
        }
        config.set(RestOptions.BIND_PORT, "0");
        return null;
    }

    private static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getByName("localhost"))) {
            return socket.isBound();
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Stops the job with a savepoint in {@code directory}, without drain: the savepoint holds the Kafka positions and
     * the requests in flight, the sinks commit what was completed, and a job restored from it goes on exactly where
     * this one stopped. If that fails or takes longer than {@code timeout}, the job is cancelled.
     *
     * @return the savepoint's path, or empty if the job was cancelled instead
     */
    static Optional<String> stopWithSavepoint(JobClient job, Path directory, Duration timeout) {
        try {
            Files.createDirectories(directory);
            String path = job.stopWithSavepoint(false, directory.toUri().toString(), SavepointFormatType.CANONICAL)
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            awaitTermination(job, timeout);
            return Optional.of(path);
        } catch (IOException | ExecutionException | TimeoutException | CancellationException e) {
            cancel(job, timeout);
            return Optional.empty();
        } catch (InterruptedException e) {
            cancel(job, timeout);
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /**
     * Cancels the job, if it still runs, and waits up to {@code timeout} until it has stopped. An interrupt that is
     * pending on entry is the one this stop answers, so it is cleared; one that comes while waiting cuts the wait
     * short and is kept.
     */
    static void cancel(JobClient job, Duration timeout) {
        Thread.interrupted();
        boolean interrupted = false;
        try {
            if (!job.getJobExecutionResult().isDone()) {
                job.cancel().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (ExecutionException | TimeoutException | CancellationException e) {
            // The job ended by itself meanwhile, or the cluster does not answer: the wait below settles it.
        } catch (InterruptedException e) {
            interrupted = true;
        }
        try {
            awaitTermination(job, timeout);
        } catch (InterruptedException e) {
            interrupted = true;
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits until the job has ended, whichever way. */
    private static void awaitTermination(JobClient job, Duration timeout) throws InterruptedException {
        try {
            job.getJobExecutionResult().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException | CancellationException e) {
            // Cancelled or failed: ended either way; or still not ended after the timeout, which the caller reports.
        }
    }

    /** An exception that says in one line why the Flink job failed (its innermost cause). */
    static IOException jobFailed(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
        return new IOException("the Flink job failed: " + ErrorMessages.oneLine(message), e);
    }
}
