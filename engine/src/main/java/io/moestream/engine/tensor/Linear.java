package io.moestream.engine.tensor;

/**
 * A weight matrix {@code W} of shape {@code [outFeatures, inFeatures]} (PyTorch's {@code nn.Linear} layout), applied
 * to a batch of rows: {@code y[t] = W x[t]}.
 *
 * <p><b>Numerics.</b> Every output is one dot product computed in one fixed order: {@code s = 0; for i in 0..k-1:
 * s = fma(W[o][i], x[t][i], s)}, with {@code W[o][i]} the weight as float32 (a bfloat16 or 8-bit weight widened
 * exactly first). So a row's result never depends on how many rows share the call, which kernel ran it or how many
 * threads ran it (DESIGN.md section 3), and a matrix gives the same bits as the float32 matrix of its values.
 *
 * <p><b>Layout.</b> Each format packs its weights once at load into panels of {@value #PANEL} output rows stored
 * input-major: for each input {@code i}, the panel's 16 weights of column {@code i} are adjacent. The kernels
 * vectorise over output rows (two 8-lane vectors per panel) and broadcast one activation per FMA, so a dot product
 * needs no horizontal sum and its order is the sequential one above. Three kernels cover the row counts: 6 rows of one
 * float32 panel (prefill, batched decode: 12 accumulators; other formats widen the panel once for all rows, except
 * that bf16 reads its panel directly when at most two 6-row blocks would share the widening), and 2 rows of 2 panels
 * or 1 row of 4 panels reading the stored format (fewer than 6 rows: decode, memory-bound). {@link LinearBatch} runs
 * several independent products as one parallel region.
 */
public abstract class Linear {
    /** Output rows per panel: two 8-lane vectors. */
    static final int PANEL = 16;
    /** Activation rows of the widest kernel. */
    static final int KERNEL_ROWS = 6;
    /** Products below this many FMAs (a couple of microseconds) are not split across threads. */
    static final long SERIAL_FMAS = 1 << 16;
    /** Activations one pass of the 6-row kernel over all panels keeps in cache: half of a 512 KB L2. */
    private static final int ACTIVATION_CACHE_BYTES = 256 << 10;

    private final int outFeatures;
    private final int inFeatures;
    /** Panels of {@link #PANEL} output rows; the last one padded with zero weights. */
    final int panels;

    Linear(int outFeatures, int inFeatures) {
        if (outFeatures < 1 || inFeatures < 1) {
            throw new IllegalArgumentException("shape " + outFeatures + "x" + inFeatures);
        }
        this.outFeatures = outFeatures;
        this.inFeatures = inFeatures;
        this.panels = (outFeatures + PANEL - 1) / PANEL;
    }

    public final int outFeatures() {
        return outFeatures;
    }

    public final int inFeatures() {
        return inFeatures;
    }

    /** Bytes of weight data this matrix keeps in memory. */
    public abstract long bytes();

    /** Weight {@code (o, i)} as float32, exactly as the kernels use it. */
    public abstract float get(int o, int i);

    /** Row {@code o} of the weight, as floats, into {@code dst[dstOff ..]}. */
    public void copyRow(int o, float[] dst, int dstOff) {
        for (int i = 0; i < inFeatures; i++) {
            dst[dstOff + i] = get(o, i);
        }
    }

    /**
     * Panel {@code p} as float32 in the packed layout ({@code 16i + j} is weight {@code (16p + j, i)}): the backing
     * array itself when it holds floats (then at {@link #panelOffset}), else {@code scratch} filled with the widened
     * weights (at offset 0). The 6-row kernel runs on it: widening once per panel is cheap next to 6 or more rows
     * of FMAs, and C2 keeps the 12 accumulators of the float32 kernel in registers better than with the widening
     * inside the loop.
     */
    abstract float[] panelFloats(int p, float[] scratch);

    /**
     * Whether {@link #kernel6Direct} should serve a chunk of {@code rows} rows instead of widening each panel for the
     * float32 kernel: the widening pays off only when enough 6-row blocks share it.
     */
    boolean directWide(int rows) {
        return false;
    }

    /** The 6-row kernel on panel {@code p} in the stored format (only where {@link #directWide} says so). */
    void kernel6Direct(int p, float[] x, int x0, int x1, int x2, int x3, int x4, int x5, float[] out) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no direct 6-row kernel");
    }

    /** Where panel {@code p} starts in the array {@link #panelFloats} returns. */
    int panelOffset(int p) {
        return 0;
    }

    /**
     * Panels {@code p} and {@code q} times the rows at {@code x[xa..]} and {@code x[xb..]}: {@code out[r * 32 + 16s +
     * j]} is output {@code j} of panel {@code s} ({@code p}, then {@code q}) for row {@code r}.
     */
    abstract void kernel2(int p, int q, float[] x, int xa, int xb, float[] out);

    /**
     * Panels {@code p0 .. p3} times the row at {@code x[xa..]}: {@code out[16s + j]} for panel {@code s}. Four
     * panels keep 8 accumulators and 4 weight streams in flight (a decode step is memory-bound), and make the method
     * too big for C2 to inline into its caller, where the Vector API's intrinsics would exceed the inlining budget.
     */
    abstract void kernel1(int p0, int p1, int p2, int p3, float[] x, int xa, float[] out);

    /**
     * {@code y[yOff + t*yStride + o] = sum_i W[o][i] * x[xOff + t*xStride + i]} for {@code t < rows}, {@code o <
     * outFeatures}.
     */
    public final void forward(
            float[] x, int xOff, int xStride, int rows, float[] y, int yOff, int yStride, Parallel parallel) {
        // Small products run in the caller: a hand-off would cost more than it saves. Otherwise split over panels
        // when there are enough, else over rows (prefill of a small matrix).
        if ((long) rows * outFeatures * inFeatures < SERIAL_FMAS) {
            forwardBlock(0, panels, x, xOff, xStride, 0, rows, y, yOff, yStride);
        } else if (panels >= parallel.threads() * 2 || rows < KERNEL_ROWS * parallel.threads()) {
            parallel.forRange(
                    panels, 2, (from, to) -> forwardBlock(from, to, x, xOff, xStride, 0, rows, y, yOff, yStride));
        } else {
            parallel.forRange(
                    rows,
                    KERNEL_ROWS,
                    (from, to) -> forwardBlock(0, panels, x, xOff, xStride, from, to, y, yOff, yStride));
        }
    }

    /** Single-threaded form of {@link #forward}. */
    public final void forward(float[] x, int xOff, int xStride, int rows, float[] y, int yOff, int yStride) {
        forwardBlock(0, panels, x, xOff, xStride, 0, rows, y, yOff, yStride);
    }

    /** Panels {@code [pFrom, pTo)} for rows {@code [rFrom, rTo)}. */
    void forwardBlock(
            int pFrom,
            int pTo,
            float[] x,
            int xOff,
            int xStride,
            int rFrom,
            int rTo,
            float[] y,
            int yOff,
            int yStride) {
        Scratch scratch = Scratch.get();
        float[] out = scratch.kernelOutputs;
        if (rTo - rFrom >= KERNEL_ROWS) {
            forwardWide(pFrom, pTo, x, xOff, xStride, rFrom, rTo, y, yOff, yStride, scratch);
            return;
        }
        // Fewer than 6 rows (decode): the stored format is read directly, two panels at a time for pairs of rows
        // (each pair of panels stays in L1 for all the rows), four at a time for a last odd row.
        int pairsEnd = rTo - (rTo - rFrom) % 2;
        if (pairsEnd > rFrom) {
            for (int p = pFrom; p < pTo; p += 2) {
                int q = p + 1 < pTo ? p + 1 : p;
                for (int t = rFrom; t < pairsEnd; t += 2) {
                    int xa = xOff + t * xStride;
                    kernel2(p, q, x, xa, xa + xStride, out);
                    int ya = yOff + t * yStride;
                    store(out, 0, p, y, ya);
                    store(out, 2 * PANEL, p, y, ya + yStride);
                    if (q != p) {
                        store(out, PANEL, q, y, ya);
                        store(out, 3 * PANEL, q, y, ya + yStride);
                    }
                }
            }
        }
        if (pairsEnd < rTo) {
            int xa = xOff + pairsEnd * xStride;
            int ya = yOff + pairsEnd * yStride;
            for (int p = pFrom; p < pTo; p += 4) {
                int last = pTo - 1;
                kernel1(p, Math.min(p + 1, last), Math.min(p + 2, last), Math.min(p + 3, last), x, xa, out);
                for (int s = 0; s < 4 && p + s < pTo; s++) {
                    store(out, s * PANEL, p + s, y, ya);
                }
            }
        }
    }

    /**
     * 6 or more rows: blocks of 6 rows on each panel as float32, in chunks of rows that stay in L2; a last partial
     * block repeats its last row (wasted FMAs, but the weights are not read a second time).
     */
    private void forwardWide(
            int pFrom,
            int pTo,
            float[] x,
            int xOff,
            int xStride,
            int rFrom,
            int rTo,
            float[] y,
            int yOff,
            int yStride,
            Scratch scratch) {
        float[] out = scratch.kernelOutputs;
        float[] widened = scratch.panel(PANEL * inFeatures);
        int chunk = rowChunk();
        for (int c = rFrom; c < rTo; c += chunk) {
            int chunkEnd = Math.min(rTo, c + chunk);
            boolean direct = directWide(chunkEnd - c);
            for (int p = pFrom; p < pTo; p++) {
                float[] w = direct ? null : panelFloats(p, widened);
                int wOff = direct ? 0 : panelOffset(p);
                for (int t = c; t < chunkEnd; t += KERNEL_ROWS) {
                    int n = Math.min(KERNEL_ROWS, chunkEnd - t);
                    int x0 = xOff + t * xStride;
                    int last = xOff + (t + n - 1) * xStride;
                    int x1 = n > 1 ? x0 + xStride : last;
                    int x2 = n > 2 ? x0 + 2 * xStride : last;
                    int x3 = n > 3 ? x0 + 3 * xStride : last;
                    int x4 = n > 4 ? x0 + 4 * xStride : last;
                    int x5 = n > 5 ? x0 + 5 * xStride : last;
                    if (direct) {
                        kernel6Direct(p, x, x0, x1, x2, x3, x4, x5, out);
                    } else {
                        F32Linear.kernel6(w, wOff, inFeatures, x, x0, x1, x2, x3, x4, x5, out);
                    }
                    for (int r = 0; r < n; r++) {
                        store(out, r * PANEL, p, y, yOff + (t + r) * yStride);
                    }
                }
            }
        }
    }

    /**
     * Rows per pass over the panels: as many as keep their activations within {@link #ACTIVATION_CACHE_BYTES}, so
     * every panel finds them in the core's L2 cache instead of streaming them again from L3 or memory.
     */
    private int rowChunk() {
        int rows = ACTIVATION_CACHE_BYTES / (4 * inFeatures);
        return Math.max(KERNEL_ROWS, rows / KERNEL_ROWS * KERNEL_ROWS);
    }

    /** Copies panel {@code p}'s outputs (those that exist) from {@code out[from..]} to row {@code y[yRow..]}. */
    private void store(float[] out, int from, int p, float[] y, int yRow) {
        System.arraycopy(out, from, y, yRow + p * PANEL, Math.min(PANEL, outFeatures - p * PANEL));
    }
}
