package io.moestream.engine.tensor;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

/**
 * The thread budget of one engine instance. Work is split into contiguous ranges of independent items (output rows,
 * tokens, heads), never inside a reduction, so results are bitwise identical whatever the thread count (DESIGN.md
 * section 3). Several engines in one JVM (several Flink slots) each get their own budget instead of sharing the
 * common pool.
 */
public final class Parallel implements AutoCloseable {
    /** A body over the half-open item range {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private final int threads;
    private final ForkJoinPool pool;

    private Parallel(int threads) {
        this.threads = threads;
        this.pool = threads > 1 ? new ForkJoinPool(threads - 1) : null;
    }

    /** A budget of {@code threads} threads: the caller's plus {@code threads - 1} workers. */
    public static Parallel create(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        return new Parallel(threads);
    }

    /** A budget of one thread: everything runs in the caller. */
    public static Parallel serial() {
        return new Parallel(1);
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, items)} split into at most {@code threads} contiguous ranges of at least
     * {@code minItemsPerTask} items; returns when all are done.
     */
    public void forRange(int items, int minItemsPerTask, RangeBody body) {
        int tasks = pool == null ? 1 : Math.min(threads, Math.max(1, items / Math.max(1, minItemsPerTask)));
        if (tasks <= 1) {
            if (items > 0) {
                body.run(0, items);
            }
            return;
        }
        ForkJoinTask<?>[] forked = new ForkJoinTask<?>[tasks - 1];
        for (int t = 1; t < tasks; t++) {
            int from = (int) ((long) items * t / tasks);
            int to = (int) ((long) items * (t + 1) / tasks);
            forked[t - 1] = pool.submit(() -> body.run(from, to));
        }
        body.run(0, (int) ((long) items / tasks));
        for (ForkJoinTask<?> task : forked) {
            task.join();
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdown();
        }
    }
}
