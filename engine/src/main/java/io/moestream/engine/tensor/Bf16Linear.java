package io.moestream.engine.tensor;

/**
 * A bfloat16 weight matrix kept in its 2-byte form (half the memory traffic of float32); each tile of rows is
 * widened to float32 in a per-thread scratch just before use, exactly (bf16 is the top half of a float32).
 */
public final class Bf16Linear extends Linear {
    private final short[] weight;

    public Bf16Linear(short[] weight, int outFeatures, int inFeatures) {
        super(outFeatures, inFeatures);
        if (weight.length != (long) outFeatures * inFeatures) {
            throw new IllegalArgumentException(
                    "weight has " + weight.length + " elements, expected " + outFeatures + "x" + inFeatures);
        }
        this.weight = weight;
    }

    /** The raw bfloat16 bits (shared, not copied). */
    public short[] weight() {
        return weight;
    }

    @Override
    public long bytes() {
        return 2L * weight.length;
    }

    @Override
    public void copyRow(int o, float[] dst, int dstOff) {
        NumberFormats.bf16ToFloat(weight, o * inFeatures(), dst, dstOff, inFeatures());
    }

    @Override
    float[] tileRows(int tile, float[] scratch, int[] rowOffsets) {
        int first = tile * TILE_OUT;
        int k = inFeatures();
        for (int r = 0; r < TILE_OUT; r++) {
            int row = first + r < outFeatures() ? first + r : first;
            NumberFormats.bf16ToFloat(weight, row * k, scratch, r * k, k);
            rowOffsets[r] = r * k;
        }
        return scratch;
    }
}
