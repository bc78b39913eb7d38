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
        int first = tile * TILE_OUT;
        for (int r = 0; r < TILE_OUT; r++) {
            int row = first + r < outFeatures() ? first + r : first;
            rowOffsets[r] = row * inFeatures();
        }
        return weight;
    }
}
