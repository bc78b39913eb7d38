package io.moestream.engine.tensor;

/**
 * A weight matrix {@code W} of shape {@code [outFeatures, inFeatures]} (PyTorch's {@code nn.Linear} layout), applied
 * to a batch of rows: {@code y[t] = W x[t]}. Every output element is one dot product in the fixed order of
 * {@link Kernels}, so a row's result never depends on how many rows share the call or how many threads run it, and a
 * matrix gives the same bits as the float32 matrix of its values (a bfloat16 or 8-bit matrix is exactly its widening).
 *
 * <p>One activation row (decode of one sequence, memory-bound) runs a kernel of the storage format that reads the
 * weights in place. Several rows widen each tile of 4 weight rows to float32 once and run the float32 microkernel
 * over all rows, so the conversion is paid once per tile, not once per row.
 */
public abstract class Linear {
    /** Output rows per tile: the microkernels compute 4 outputs of 1 or 2 activation rows at a time. */
    static final int TILE_OUT = 4;

    private final int outFeatures;
    private final int inFeatures;

    protected Linear(int outFeatures, int inFeatures) {
        this.outFeatures = outFeatures;
        this.inFeatures = inFeatures;
    }

    public final int outFeatures() {
        return outFeatures;
    }

    public final int inFeatures() {
        return inFeatures;
    }

    /** Bytes of weight data this matrix keeps in memory. */
    public abstract long bytes();

    /** Row {@code o} of the weight, as floats, into {@code dst[dstOff ..]}. */
    public abstract void copyRow(int o, float[] dst, int dstOff);

    /**
     * Makes the 4 weight rows of tile {@code tile} readable as floats: returns the array that holds them, either the
     * backing array itself (no copy) or {@code scratch} (converted), and sets {@code rowOffsets[r]} to where row
     * {@code r} starts in it. Rows past the end of the matrix point at the tile's first row.
     */
    abstract float[] tileRows(int tile, float[] scratch, int[] rowOffsets);

    /**
     * The 4 outputs of tile {@code tile} for the activation row {@code x[xOff..]} into {@code out[0..3]}, reading the
     * weights in their stored form; bitwise equal to {@link Kernels#dot} of the widened rows.
     */
    abstract void dotTile(int tile, float[] x, int xOff, float[] out);

    /** The first row of tile {@code tile}, or row {@code r} of it when that exists. */
    final int tileRow(int tile, int r) {
        int row = tile * TILE_OUT + r;
        return row < outFeatures ? row : tile * TILE_OUT;
    }

    /**
     * {@code y[yOff + t*yStride + o] = sum_i W[o][i] * x[xOff + t*xStride + i]} for {@code t < rows}, {@code o <
     * outFeatures}.
     */
    public final void forward(
            float[] x, int xOff, int xStride, int rows, float[] y, int yOff, int yStride, Parallel parallel) {
        int tiles = (outFeatures + TILE_OUT - 1) / TILE_OUT;
        // Split over output tiles when there are enough; otherwise also over rows (prefill of a small matrix).
        if (tiles >= parallel.threads() * 4 || rows < 2 * parallel.threads()) {
            parallel.forRange(
                    tiles, 8, (from, to) -> forwardTiles(from, to, x, xOff, xStride, 0, rows, y, yOff, yStride));
        } else {
            parallel.forRange(
                    rows, 2, (from, to) -> forwardTiles(0, tiles, x, xOff, xStride, from, to, y, yOff, yStride));
        }
    }

    /** Single-threaded form of {@link #forward}. */
    public final void forward(float[] x, int xOff, int xStride, int rows, float[] y, int yOff, int yStride) {
        forwardTiles(0, (outFeatures + TILE_OUT - 1) / TILE_OUT, x, xOff, xStride, 0, rows, y, yOff, yStride);
    }

    private void forwardTiles(
            int tileFrom,
            int tileTo,
            float[] x,
            int xOff,
            int xStride,
            int rowFrom,
            int rowTo,
            float[] y,
            int yOff,
            int yStride) {
        Scratch scratch = Scratch.get();
        float[] out = scratch.tileOutputs;
        if (rowTo - rowFrom == 1) {
            int xa = xOff + rowFrom * xStride;
            int yRow = yOff + rowFrom * yStride;
            for (int tile = tileFrom; tile < tileTo; tile++) {
                dotTile(tile, x, xa, out);
                int o0 = tile * TILE_OUT;
                System.arraycopy(out, 0, y, yRow + o0, Math.min(TILE_OUT, outFeatures - o0));
            }
            return;
        }
        float[] widened = scratch.tile(TILE_OUT * inFeatures);
        int[] r = scratch.tileRowOffsets;
        int k = inFeatures;
        for (int tile = tileFrom; tile < tileTo; tile++) {
            float[] w = tileRows(tile, widened, r);
            int o0 = tile * TILE_OUT;
            int valid = Math.min(TILE_OUT, outFeatures - o0);
            int t = rowFrom;
            for (; t + 1 < rowTo; t += 2) {
                int xa = xOff + t * xStride;
                Kernels.dot4x2(w, r[0], r[1], r[2], r[3], x, xa, xa + xStride, k, out);
                System.arraycopy(out, 0, y, yOff + t * yStride + o0, valid);
                System.arraycopy(out, 4, y, yOff + (t + 1) * yStride + o0, valid);
            }
            if (t < rowTo) {
                Kernels.dot4x1(w, r[0], r[1], r[2], r[3], x, xOff + t * xStride, k, out);
                System.arraycopy(out, 0, y, yOff + t * yStride + o0, valid);
            }
        }
    }
}
