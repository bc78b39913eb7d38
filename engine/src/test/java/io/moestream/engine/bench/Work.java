package io.moestream.engine.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What the benchmarked calls did, counted per call: JMH reports each counter as a rate next to the ops/s, which
 * {@link BenchmarkMain} prints as GFLOP/s and GB/s.
 */
@AuxCounters(AuxCounters.Type.OPERATIONS)
@State(Scope.Thread)
public class Work {
    /** Floating-point operations, a multiply-add counting 2. */
    public long flop;

    /** Bytes read from weights, caches and inputs, and written to outputs. */
    public long bytes;

    @Setup(Level.Iteration)
    public void reset() {
        flop = 0;
        bytes = 0;
    }

    void add(long flops, long bytesMoved) {
        flop += flops;
        bytes += bytesMoved;
    }
}
