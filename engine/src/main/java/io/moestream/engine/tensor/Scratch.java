package io.moestream.engine.tensor;

/** Per-thread scratch buffers that grow to the largest size asked, so hot loops do not allocate. */
final class Scratch {
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[0]);

    private Scratch() {}

    static float[] tile(int size) {
        float[] buffer = TILE.get();
        if (buffer.length < size) {
            buffer = new float[size];
            TILE.set(buffer);
        }
        return buffer;
    }
}
