package io.moestream.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ParallelTest {
    @Test
    void everyItemRunsExactlyOnceAcrossManyBackToBackJobs() throws InterruptedException {
        try (Parallel parallel = Parallel.create(3)) {
            for (int job = 0; job < 20_000; job++) {
                int items = 1 + job % 37;
                int[] runs = new int[items];
                parallel.forRange(items, 1, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        runs[i]++;
                    }
                });
                for (int i = 0; i < items; i++) {
                    assertEquals(1, runs[i], "job " + job + " item " + i);
                }
                if (job % 5000 == 0) {
                    Thread.sleep(2); // let the workers park, then wake them
                }
            }
        }
    }

    @Test
    void aWorkersExceptionReachesTheCallerAndTheBudgetStaysUsable() {
        try (Parallel parallel = Parallel.create(2)) {
            IllegalStateException thrown = new IllegalStateException("boom");
            IllegalStateException caught = assertThrows(
                    IllegalStateException.class,
                    () -> parallel.forRange(10, 1, (from, to) -> {
                        if (from > 0) {
                            throw thrown;
                        }
                    }));
            assertSame(thrown, caught);
            AtomicInteger sum = new AtomicInteger();
            parallel.forRange(10, 1, (from, to) -> sum.addAndGet(to - from));
            assertEquals(10, sum.get());
        }
    }

    @Test
    void aNestedCallRunsInTheCallingThread() {
        try (Parallel parallel = Parallel.create(2)) {
            AtomicInteger inner = new AtomicInteger();
            parallel.forRange(4, 1, (from, to) -> parallel.forRange(8, 1, (a, b) -> inner.addAndGet(b - a)));
            assertEquals(16, inner.get());
        }
    }
}
