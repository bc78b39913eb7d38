package io.moestream.engine.model.v4;

import io.moestream.engine.model.Residual;
import io.moestream.engine.tensor.F32Linear;
import io.moestream.engine.tensor.Kernels;
import io.moestream.engine.tensor.Linear;
import io.moestream.engine.tensor.Parallel;

/**
 * DeepSeek-V4's manifold-constrained hyper-connections (transformers' {@code DeepseekV4HyperConnection} and {@code
 * DeepseekV4HyperHead}): the residual is {@code hc} streams per token, all equal to the embedding at first. Before
 * each block a learned mapping of the RMS-normalised streams gives {@code pre} (how the streams collapse into the
 * block's input), {@code post} (how the block's output is spread back over them) and {@code comb} (how they mix),
 * projected by Sinkhorn-Knopp onto doubly-stochastic matrices; after it, new stream {@code k} is {@code post[k] * out +
 * sum_j comb[j][k] * h[j]}. Before the LM head a last mapping collapses the streams ({@code pre} only).
 *
 * <p>As transformers computes them, in float32 whatever the weights' type, with exactly its epsilon placements:
 * {@code pre = sigmoid(.) + eps}, {@code post = 2 sigmoid(.)}, {@code comb = softmax(rows) + eps}, then one column
 * normalisation and {@code iterations - 1} rounds of row and column normalisation, each dividing by {@code sum + eps}.
 */
public final class HyperConnections implements Residual {
    private final int streams;
    private final int hidden;
    private final int iterations;
    private final float hcEps;
    private final float normEps;
    /** Per layer and site ({@code 2 * layer + site}): the mixing weights {@code [(2 + hc) * hc, hc * hidden]}. */
    private final Linear[] fn;

    private final float[][] base;
    private final float[][] scale;
    private final Linear headFn;
    private final float[] headBase;
    private final float headScale;

    /**
     * @param fn per layer, attention site then feed-forward site: {@code hc_attn_fn}, {@code hc_ffn_fn}, ...
     * @param base likewise, {@code [(2 + hc) * hc]} each
     * @param scale likewise, {@code [3]} each
     * @param headFn {@code hc_head_fn}, {@code [hc, hc * hidden]}
     */
    HyperConnections(
            int streams,
            int hidden,
            int iterations,
            double hcEps,
            double normEps,
            Linear[] fn,
            float[][] base,
            float[][] scale,
            Linear headFn,
            float[] headBase,
            float headScale) {
        this.streams = streams;
        this.hidden = hidden;
        this.iterations = iterations;
        this.hcEps = (float) hcEps;
        this.normEps = (float) normEps;
        this.fn = fn;
        this.base = base;
        this.scale = scale;
        this.headFn = headFn;
        this.headBase = headBase;
        this.headScale = headScale;
    }

    /** Mixing logits per token and site: {@code pre}, {@code post} and the {@code hc x hc} {@code comb}. */
    private int mixWidth() {
        return (2 + streams) * streams;
    }

    @Override
    public Streams newStreams(int capacity) {
        return new HyperStreams(capacity);
    }

    @Override
    public long bytes() {
        long total = headFn.bytes() + 4L * (headBase.length + 1);
        for (int i = 0; i < fn.length; i++) {
            total += fn[i].bytes() + 4L * (base[i].length + scale[i].length);
        }
        return total;
    }

    @Override
    public double multiplyAddsPerToken() {
        long width = (long) streams * hidden;
        // Per block: the mixing logits, the collapse and the spread; at the end the head's logits and collapse.
        return fn.length * ((double) mixWidth() * width + width + width * (streams + 1))
                + (double) streams * width
                + width;
    }

    private static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + StrictMath.exp(-(double) x)));
    }

    private final class HyperStreams implements Streams {
        private final int width = streams * HyperConnections.this.hidden;
        private final float[] hidden;
        /** The RMS-normalised streams of each row, the mixing logits' input. */
        private final float[] flat;

        private final float[] mix;
        private final float[] post;
        private final float[] comb;
        private final float[] collapsed;
        private final float[] spread;
        private final float[] pre = new float[streams];

        HyperStreams(int capacity) {
            hidden = new float[capacity * width];
            flat = new float[capacity * width];
            mix = new float[capacity * mixWidth()];
            post = new float[capacity * streams];
            comb = new float[capacity * streams * streams];
            collapsed = new float[HyperConnections.this.hidden];
            spread = new float[width];
        }

        @Override
        public void embed(int row, Linear embedding, int token) {
            int h = HyperConnections.this.hidden;
            embedding.copyRow(token, hidden, row * width);
            for (int j = 1; j < streams; j++) {
                System.arraycopy(hidden, row * width, hidden, row * width + j * h, h);
            }
        }

        @Override
        public void blockInput(
                int layer, Site site, int rows, float[] norm, double eps, float[] xNorm, Parallel parallel) {
            int h = HyperConnections.this.hidden;
            int at = 2 * layer + site.ordinal();
            int mw = mixWidth();
            for (int t = 0; t < rows; t++) {
                Kernels.rmsNormUnweighted(hidden, t * width, normEps, flat, t * width, width);
            }
            fn[at].forward(flat, 0, width, rows, mix, 0, mw, parallel);
            float[] b = base[at];
            float[] s = scale[at];
            for (int t = 0; t < rows; t++) {
                int m = t * mw;
                for (int j = 0; j < streams; j++) {
                    pre[j] = sigmoid(mix[m + j] * s[0] + b[j]) + hcEps;
                    post[t * streams + j] = 2 * sigmoid(mix[m + streams + j] * s[1] + b[streams + j]);
                }
                mixer(mix, m + 2 * streams, s[2], b, comb, t * streams * streams);
                java.util.Arrays.fill(collapsed, 0f);
                for (int j = 0; j < streams; j++) {
                    Kernels.axpy(pre[j], hidden, t * width + j * h, collapsed, 0, h);
                }
                Kernels.rmsNorm(collapsed, 0, norm, eps, xNorm, t * h, h);
            }
        }

        /** {@code comb[j][k]}: the Sinkhorn-Knopp projection of the mixing logits, rows indexed by source stream. */
        private void mixer(float[] logits, int off, float s, float[] b, float[] out, int outOff) {
            int n = streams;
            for (int j = 0; j < n; j++) {
                int row = outOff + j * n;
                float max = Float.NEGATIVE_INFINITY;
                for (int k = 0; k < n; k++) {
                    out[row + k] = logits[off + j * n + k] * s + b[2 * n + j * n + k];
                    max = Math.max(max, out[row + k]);
                }
                float sum = 0;
                for (int k = 0; k < n; k++) {
                    out[row + k] = (float) StrictMath.exp((double) (out[row + k] - max));
                    sum += out[row + k];
                }
                for (int k = 0; k < n; k++) {
                    out[row + k] = out[row + k] / sum + hcEps;
                }
            }
            normaliseColumns(out, outOff);
            for (int i = 1; i < iterations; i++) {
                normaliseRows(out, outOff);
                normaliseColumns(out, outOff);
            }
        }

        private void normaliseRows(float[] c, int off) {
            int n = streams;
            for (int j = 0; j < n; j++) {
                float sum = 0;
                for (int k = 0; k < n; k++) {
                    sum += c[off + j * n + k];
                }
                float denominator = sum + hcEps;
                for (int k = 0; k < n; k++) {
                    c[off + j * n + k] /= denominator;
                }
            }
        }

        private void normaliseColumns(float[] c, int off) {
            int n = streams;
            for (int k = 0; k < n; k++) {
                float sum = 0;
                for (int j = 0; j < n; j++) {
                    sum += c[off + j * n + k];
                }
                float denominator = sum + hcEps;
                for (int j = 0; j < n; j++) {
                    c[off + j * n + k] /= denominator;
                }
            }
        }

        @Override
        public void blockOutput(int layer, Site site, int rows, float[] out) {
            int h = HyperConnections.this.hidden;
            int n = streams;
            for (int t = 0; t < rows; t++) {
                int c = t * n * n;
                for (int k = 0; k < n; k++) {
                    Kernels.scale(post[t * n + k], out, t * h, spread, k * h, h);
                    for (int j = 0; j < n; j++) {
                        Kernels.axpy(comb[c + j * n + k], hidden, t * width + j * h, spread, k * h, h);
                    }
                }
                System.arraycopy(spread, 0, hidden, t * width, width);
            }
        }

        @Override
        public void headInput(int row, float[] norm, double eps, float[] dst, int dstOff) {
            int h = HyperConnections.this.hidden;
            Kernels.rmsNormUnweighted(hidden, row * width, normEps, flat, 0, width);
            headFn.forward(flat, 0, width, 1, pre, 0, streams);
            java.util.Arrays.fill(collapsed, 0f);
            for (int j = 0; j < streams; j++) {
                float weight = sigmoid(pre[j] * headScale + headBase[j]) + hcEps;
                Kernels.axpy(weight, hidden, row * width + j * h, collapsed, 0, h);
            }
            Kernels.rmsNorm(collapsed, 0, norm, eps, dst, dstOff, h);
        }
    }

    /** Builds the mixing weights of one site from its stored {@code fn} ({@code [(2 + hc) * hc, hc * hidden]}). */
    static Linear mixing(float[] fn, int streams, int hidden) {
        return new F32Linear(fn, (2 + streams) * streams, streams * hidden);
    }
}
