package io.moestream.engine.tensor;

/** A float32 weight matrix, row-major {@code [out, in]}; its tiles are read in place. */
public final class F32Linear extends Linear {
    private final float[] weight;

    public F32Linear(float[] weight, int outFeatures, int inFeatures) {
        super(outFeatures, inFeatures);
        if (weight.length != (long) outFeatures * inFeatures) {
            throw new IllegalArgumentException(
                    "weight has " + weight.length + " elements, expected " + outFeatures + "x" + inFeatures);
        }
        this.weight = weight;
    }

    /** The backing array (shared, not copied). */
    public float[] weight() {
        return weight;
    }

    @Override
    public long bytes() {
        return 4L * weight.length;
    }

    @Override
    public void copyRow(int o, float[] dst, int dstOff) {
        System.arraycopy(weight, o * inFeatures(), dst, dstOff, inFeatures());
    }

    @Override
    float[] tileRows(int tile, float[] scratch, int[] rowOffsets) {
        for (int r = 0; r < TILE_OUT; r++) {
            rowOffsets[r] = tileRow(tile, r) * inFeatures();
        }
        return weight;
    }

    @Override
    void dotTile(int tile, float[] x, int xOff, float[] out) {
        int k = inFeatures();
        Kernels.dot4x1(
                weight,
                tileRow(tile, 0) * k,
                tileRow(tile, 1) * k,
                tileRow(tile, 2) * k,
                tileRow(tile, 3) * k,
                x,
                xOff,
                k,
                out);
    }
}
