package io.moestream.engine.tensor;

/** Per-thread scratch buffers of the matrix kernels, so hot loops do not allocate. */
final class Scratch {
    private static final ThreadLocal<Scratch> CURRENT = ThreadLocal.withInitial(Scratch::new);

    /** Outputs of one kernel call: 6 rows of one panel or 2 rows of 2 panels. */
    final float[] kernelOutputs = new float[Linear.KERNEL_ROWS * Linear.PANEL];

    private float[] panel = new float[0];

    private Scratch() {}

    static Scratch get() {
        return CURRENT.get();
    }

    /** A buffer for one widened panel: at least {@code size} floats (contents undefined). */
    float[] panel(int size) {
        if (panel.length < size) {
            panel = new float[size];
        }
        return panel;
    }
}
