package io.moestream.engine.tensor;

import java.util.Arrays;

/**
 * Independent products {@code y = W x} (the gates and ups of a layer's experts, the per-head absorbed attention
 * matrices, ...) run as one parallel region instead of one each. A decode step's matrices are small (an expert's is
 * read in tens of microseconds), so a region per matrix spends a large share of the step waking threads and waiting
 * for the slowest one; here each thread takes one contiguous share of all the panels, weighted by their FMAs.
 *
 * <p>Each output is still computed by the kernels of its own matrix in their fixed order, so the bits do not depend
 * on how the panels are shared out (DESIGN.md section 3). Reusable: {@link #clear}, {@link #add} the products,
 * {@link #run}; its arrays grow to the largest batch and are then reused, so steady-state steps do not allocate.
 */
public final class LinearBatch {
    private int size;
    private Linear[] linears = new Linear[8];
    private float[][] inputs = new float[8][];
    private float[][] outputs = new float[8][];
    /** Per product: x offset, x stride, rows, y offset, y stride. */
    private int[] shape = new int[8 * 5];
    /** Per product: FMAs of all products before it; then the total. */
    private long[] costBefore = new long[9];

    private int tasks;
    private final Parallel.RangeBody body = this::runTasks;

    /** Forgets the products added so far. */
    public void clear() {
        Arrays.fill(linears, 0, size, null);
        Arrays.fill(inputs, 0, size, null);
        Arrays.fill(outputs, 0, size, null);
        size = 0;
    }

    /** Adds {@code y[yOff + t*yStride ..] = W x[xOff + t*xStride ..]} for {@code t < rows}, run by {@link #run}. */
    public void add(Linear w, float[] x, int xOff, int xStride, int rows, float[] y, int yOff, int yStride) {
        if (rows == 0) {
            return;
        }
        if (size == linears.length) {
            int capacity = 2 * size;
            linears = Arrays.copyOf(linears, capacity);
            inputs = Arrays.copyOf(inputs, capacity);
            outputs = Arrays.copyOf(outputs, capacity);
            shape = Arrays.copyOf(shape, capacity * 5);
            costBefore = Arrays.copyOf(costBefore, capacity + 1);
        }
        linears[size] = w;
        inputs[size] = x;
        outputs[size] = y;
        int s = size * 5;
        shape[s] = xOff;
        shape[s + 1] = xStride;
        shape[s + 2] = rows;
        shape[s + 3] = yOff;
        shape[s + 4] = yStride;
        costBefore[size + 1] = costBefore[size] + panelCost(size) * w.panels;
        size++;
    }

    /** Runs every product added since the last {@link #clear}; returns when all are done. */
    public void run(Parallel parallel) {
        long total = costBefore[size];
        tasks = total < Linear.SERIAL_FMAS ? 1 : parallel.threads();
        if (tasks == 1) {
            runTasks(0, 1);
        } else {
            parallel.forRange(tasks, 1, body);
        }
    }

    /** FMAs of one panel of product {@code i}. */
    private long panelCost(int i) {
        return (long) Linear.PANEL * linears[i].inFeatures() * shape[i * 5 + 2];
    }

    /**
     * Task {@code task} of {@link #tasks} computes the panels whose first FMA falls in its share {@code [total *
     * task / tasks, total * (task + 1) / tasks)} of all the products' FMAs.
     */
    private void runTasks(int fromTask, int toTask) {
        long total = costBefore[size];
        long from = total * fromTask / tasks;
        long to = total * toTask / tasks;
        for (int i = 0; i < size; i++) {
            long start = costBefore[i];
            if (costBefore[i + 1] <= from || start >= to) {
                continue;
            }
            long unit = panelCost(i);
            int pFrom = (int) Math.max(0, ceilDiv(from - start, unit));
            int pTo = (int) Math.min(linears[i].panels, ceilDiv(to - start, unit));
            if (pFrom < pTo) {
                int s = i * 5;
                linears[i].forwardBlock(
                        pFrom,
                        pTo,
                        inputs[i],
                        shape[s],
                        shape[s + 1],
                        0,
                        shape[s + 2],
                        outputs[i],
                        shape[s + 3],
                        shape[s + 4]);
            }
        }
    }

    private static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }
}
