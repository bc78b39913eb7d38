package io.moestream.engine.tensor;

/** Per-thread scratch buffers of the matrix kernels, grown to the largest size asked, so hot loops do not allocate. */
final class Scratch {
    private static final ThreadLocal<Scratch> CURRENT = ThreadLocal.withInitial(Scratch::new);

    /** Outputs of one microkernel call: 4 weight rows times up to 2 activation rows. */
    final float[] tileOutputs = new float[2 * Linear.TILE_OUT];
    /** Where each of a tile's 4 rows starts in the array {@link Linear#tileRows} returns. */
    final int[] tileRowOffsets = new int[Linear.TILE_OUT];

    private float[] tile = new float[0];

    private Scratch() {}

    static Scratch get() {
        return CURRENT.get();
    }

    /** A float buffer of at least {@code size} elements (contents undefined). */
    float[] tile(int size) {
        if (tile.length < size) {
            tile = new float[size];
        }
        return tile;
    }
}
