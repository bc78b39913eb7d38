package io.moestream.job.cli;

/**
 * This machine's limits with 2 threads, measured 2026-11-29 and recorded in shared/bench/README.md (stream read
 * bandwidth; AVX-512 FMA throughput). Other machines differ: the fractions printed against them are then indicative.
 */
final class MachineLimits {
    /** Memory read bandwidth, GB/s. */
    static final double READ_BANDWIDTH_GB_S = 63;

    /** Float32 fused multiply-add peak, GFLOP/s (the engine widens BF16 weights and computes in float32). */
    static final double FP32_FMA_PEAK_GFLOP_S = 424;

    private MachineLimits() {}
}
