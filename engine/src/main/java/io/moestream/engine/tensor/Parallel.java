package io.moestream.engine.tensor;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The thread budget of one engine instance. Work is split into contiguous ranges of independent items (output rows,
 * tokens, heads), never inside a reduction, so results are bitwise identical whatever the thread count (DESIGN.md
 * section 3). Several engines in one JVM (several Flink slots) each get their own budget instead of sharing a pool.
 *
 * <p>A decode step runs hundreds of parallel regions of a few microseconds each, so the hand-off must cost far less
 * than a fork-join submit and unpark: the workers are this budget's own threads, which spin on a job counter for a
 * short while after each job (some microseconds, typically the gap to the next region) before parking.
 */
public final class Parallel implements AutoCloseable {
    /** A body over the half-open item range {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    /** How long an idle worker spins for the next job before parking. */
    private static final long SPIN_NANOS = 20_000;

    private final int threads;
    private final Worker[] workers;
    /** Held by the thread running a job; a second caller, or a nested call, runs its job alone. */
    private final AtomicBoolean busy = new AtomicBoolean();

    /** The latest job; a worker that sees a new one runs its range of it (if it has one) once. */
    private volatile Job current = new Job(0, null, 0, 1);

    private volatile boolean closed;

    /**
     * One call of {@link #forRange}. Its ranges are fixed by the task index; whoever is free claims the next one (the
     * caller too, so a worker that the OS has not scheduled yet delays nothing), which never changes the results.
     */
    private static final class Job {
        final long generation;
        final RangeBody body;
        final int items;
        final int tasks;
        final AtomicInteger nextTask = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(long generation, RangeBody body, int items, int tasks) {
            this.generation = generation;
            this.body = body;
            this.items = items;
            this.tasks = tasks;
        }

        /** Runs unclaimed tasks until none is left. */
        void work() {
            for (int task = nextTask.getAndIncrement(); task < tasks; task = nextTask.getAndIncrement()) {
                try {
                    body.run((int) ((long) items * task / tasks), (int) ((long) items * (task + 1) / tasks));
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.incrementAndGet();
                }
            }
        }
    }

    private Parallel(int threads) {
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].thread.start();
        }
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
        int tasks = Math.min(threads, Math.max(1, items / Math.max(1, minItemsPerTask)));
        if (tasks <= 1 || !busy.compareAndSet(false, true)) {
            if (items > 0) {
                body.run(0, items);
            }
            return;
        }
        try {
            Job job = new Job(current.generation + 1, body, items, tasks);
            current = job;
            for (int w = 0; w < tasks - 1; w++) {
                workers[w].wake();
            }
            job.work();
            for (int spins = 0; job.done.get() < tasks; spins++) {
                if (spins < 1000) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
            Throwable thrown = job.failure.get();
            if (thrown instanceof RuntimeException e) {
                throw e;
            } else if (thrown instanceof Error e) {
                throw e;
            } else if (thrown != null) {
                throw new IllegalStateException(thrown);
            }
        } finally {
            busy.set(false);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Worker worker : workers) {
            LockSupport.unpark(worker.thread);
        }
    }

    private final class Worker implements Runnable {
        private final Thread thread;
        private volatile boolean parked;

        Worker(int index) {
            this.thread = new Thread(this, "moestream-engine-" + index);
            thread.setDaemon(true);
        }

        void wake() {
            if (parked) {
                LockSupport.unpark(thread);
            }
        }

        @Override
        public void run() {
            long seen = 0;
            while (true) {
                long spinUntil = System.nanoTime() + SPIN_NANOS;
                while (current.generation == seen && !closed && System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                }
                while (current.generation == seen && !closed) {
                    parked = true;
                    if (current.generation == seen && !closed) {
                        LockSupport.park(this);
                    }
                    parked = false;
                }
                if (closed) {
                    return;
                }
                Job job = current;
                seen = job.generation;
                job.work();
            }
        }
    }
}
