package io.moestream.job.cli;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Turns the JVM's shutdown (SIGTERM, Ctrl-C) into an interrupt of the thread that created this, and holds the JVM's
 * exit until that thread has {@linkplain #close() closed} this (it stops its Flink job cleanly meanwhile), at most for
 * a grace period. In-process (tests), interrupting that thread has the same effect without a shutdown.
 */
final class InterruptOnShutdown implements AutoCloseable {
    private final Thread hook;
    private final CountDownLatch done = new CountDownLatch(1);

    InterruptOnShutdown(String name, Duration grace) {
        Thread worker = Thread.currentThread();
        this.hook = new Thread(
                () -> {
                    worker.interrupt();
                    try {
                        done.await(grace.toMillis(), TimeUnit.MILLISECONDS);
                    } catch (InterruptedException e) {
                        // The JVM exits now either way.
                    }
                },
                name);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Lets the JVM exit (if it is shutting down) and unregisters the hook (if it is not). */
    @Override
    public void close() {
        done.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // The hook is running or has run: it returns now that the latch is open.
        }
    }
}
