package io.moestream.engine.synth;

/**
 * DeepSeek's FP8 weight format: each {@code blockRows x blockCols} block of a {@code [rows, cols]} weight (partial
 * blocks at the edges) has {@code scale_inv = amax / 448}, and the stored E4M3 values are {@code w / scale_inv}, so
 * a reader restores {@code w ~ e4m3 * scale_inv}. DeepSeek-V4 ({@code scale_fmt: ue8m0}) rounds each scale up to a
 * power of two, stored as its exponent (E8M0).
 *
 * @param powerOfTwo whether scales are powers of two (V4's ue8m0)
 */
record Fp8BlockQuantizer(int blockRows, int blockCols, boolean powerOfTwo) {
    /** The largest finite E4M3 value. */
    private static final float E4M3_MAX = 448f;

    /** The shape of a weight's scales: {@code [ceil(rows / blockRows), ceil(cols / blockCols)]}. */
    long[] scaleShape(int rows, int cols) {
        return new long[] {ceilDiv(rows, blockRows), ceilDiv(cols, blockCols)};
    }

    /** The block scales, row-major in {@link #scaleShape}. */
    float[] scaleInverses(float[] weight, int rows, int cols) {
        int scaleCols = ceilDiv(cols, blockCols);
        float[] amax = new float[ceilDiv(rows, blockRows) * scaleCols];
        for (int r = 0; r < rows; r++) {
            int scaleRow = (r / blockRows) * scaleCols;
            for (int c = 0; c < cols; c++) {
                int block = scaleRow + c / blockCols;
                amax[block] = Math.max(amax[block], Math.abs(weight[r * cols + c]));
            }
        }
        for (int i = 0; i < amax.length; i++) {
            float scale = amax[i] > 0 ? amax[i] / E4M3_MAX : 1f; // an all-zero block stores zeros with any scale
            amax[i] = powerOfTwo ? powerOfTwoAtLeast(scale) : scale;
        }
        return amax;
    }

    /** The weight divided by its block scales: the values to round to E4M3. */
    float[] scaled(float[] weight, int rows, int cols) {
        float[] scales = scaleInverses(weight, rows, cols);
        int scaleCols = ceilDiv(cols, blockCols);
        float[] out = new float[weight.length];
        for (int r = 0; r < rows; r++) {
            int scaleRow = (r / blockRows) * scaleCols;
            for (int c = 0; c < cols; c++) {
                out[r * cols + c] = weight[r * cols + c] / scales[scaleRow + c / blockCols];
            }
        }
        return out;
    }

    /** The smallest power of two not below {@code value}, so that the block's largest weight still fits. */
    static float powerOfTwoAtLeast(float value) {
        float power = Math.scalb(1f, Math.getExponent(value));
        return power < value ? 2 * power : power;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
