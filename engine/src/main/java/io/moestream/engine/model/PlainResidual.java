package io.moestream.engine.model;

import io.moestream.engine.tensor.Kernels;
import io.moestream.engine.tensor.Linear;
import io.moestream.engine.tensor.Parallel;

/** The classic residual of DeepSeek-V2/V3: {@code h = h + block(rmsNorm(h))}. */
public record PlainResidual(int hiddenSize) implements Residual {
    @Override
    public Streams newStreams(int capacity) {
        return new PlainStreams(hiddenSize, capacity);
    }

    @Override
    public long bytes() {
        return 0;
    }

    @Override
    public double multiplyAddsPerToken() {
        return 0;
    }

    private static final class PlainStreams implements Streams {
        private final int h;
        private final float[] hidden;

        PlainStreams(int hiddenSize, int capacity) {
            this.h = hiddenSize;
            this.hidden = new float[capacity * hiddenSize];
        }

        @Override
        public void embed(int row, Linear embedding, int token) {
            embedding.copyRow(token, hidden, row * h);
        }

        @Override
        public void blockInput(
                int layer, Site site, int rows, float[] norm, double eps, float[] xNorm, Parallel parallel) {
            for (int t = 0; t < rows; t++) {
                Kernels.rmsNorm(hidden, t * h, norm, eps, xNorm, t * h, h);
            }
        }

        @Override
        public void blockOutput(int layer, Site site, int rows, float[] out) {
            Kernels.add(out, 0, hidden, 0, rows * h);
        }

        @Override
        public void headInput(int row, float[] norm, double eps, float[] dst, int dstOff) {
            Kernels.rmsNorm(hidden, row * h, norm, eps, dst, dstOff, h);
        }
    }
}
