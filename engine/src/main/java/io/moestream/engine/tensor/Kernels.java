package io.moestream.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The dot-product microkernels behind every matrix product. Determinism (DESIGN.md section 3) rests on one rule:
 * a dot product of length {@code k} is always computed the same way, whichever kernel variant runs it: 8 lane-wise
 * FMA accumulators over {@code i = 0, 8, 16, ...}, the lanes summed in a fixed tree, then the {@code k % 8} tail
 * added by scalar FMAs in order. The 256-bit species is fixed (not the platform's preferred one) so that every
 * x86-64 machine with AVX2 or AVX-512 computes the same bits.
 */
public final class Kernels {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    static final int LANES = 8;

    private Kernels() {}

    /** Fixed-order sum of the 8 lanes. */
    static float sumLanes(FloatVector v) {
        return ((v.lane(0) + v.lane(1)) + (v.lane(2) + v.lane(3)))
                + ((v.lane(4) + v.lane(5)) + (v.lane(6) + v.lane(7)));
    }

    /** The dot product of {@code a[aOff..aOff+k)} and {@code b[bOff..bOff+k)} in the canonical order. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int k) {
        int vk = k & ~(LANES - 1);
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < vk; i += LANES) {
            acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
        }
        float s = sumLanes(acc);
        for (int i = vk; i < k; i++) {
            s = Math.fma(a[aOff + i], b[bOff + i], s);
        }
        return s;
    }

    /**
     * Four weight rows times two activation rows: {@code out[0..3]} for {@code xa}, {@code out[4..7]} for {@code xb};
     * each element bitwise equal to {@link #dot}.
     */
    static void dot4x2(float[] w, int w0, int w1, int w2, int w3, float[] x, int xa, int xb, int k, float[] out) {
        int vk = k & ~(LANES - 1);
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (int i = 0; i < vk; i += LANES) {
            FloatVector va = FloatVector.fromArray(F, x, xa + i);
            FloatVector vb = FloatVector.fromArray(F, x, xb + i);
            FloatVector r0 = FloatVector.fromArray(F, w, w0 + i);
            a0 = r0.fma(va, a0);
            b0 = r0.fma(vb, b0);
            FloatVector r1 = FloatVector.fromArray(F, w, w1 + i);
            a1 = r1.fma(va, a1);
            b1 = r1.fma(vb, b1);
            FloatVector r2 = FloatVector.fromArray(F, w, w2 + i);
            a2 = r2.fma(va, a2);
            b2 = r2.fma(vb, b2);
            FloatVector r3 = FloatVector.fromArray(F, w, w3 + i);
            a3 = r3.fma(va, a3);
            b3 = r3.fma(vb, b3);
        }
        out[0] = tail(w, w0, x, xa, vk, k, sumLanes(a0));
        out[1] = tail(w, w1, x, xa, vk, k, sumLanes(a1));
        out[2] = tail(w, w2, x, xa, vk, k, sumLanes(a2));
        out[3] = tail(w, w3, x, xa, vk, k, sumLanes(a3));
        out[4] = tail(w, w0, x, xb, vk, k, sumLanes(b0));
        out[5] = tail(w, w1, x, xb, vk, k, sumLanes(b1));
        out[6] = tail(w, w2, x, xb, vk, k, sumLanes(b2));
        out[7] = tail(w, w3, x, xb, vk, k, sumLanes(b3));
    }

    /** Four weight rows times one activation row into {@code out[0..3]}; each element bitwise equal to {@link #dot}. */
    static void dot4x1(float[] w, int w0, int w1, int w2, int w3, float[] x, int xa, int k, float[] out) {
        int vk = k & ~(LANES - 1);
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < vk; i += LANES) {
            FloatVector va = FloatVector.fromArray(F, x, xa + i);
            a0 = FloatVector.fromArray(F, w, w0 + i).fma(va, a0);
            a1 = FloatVector.fromArray(F, w, w1 + i).fma(va, a1);
            a2 = FloatVector.fromArray(F, w, w2 + i).fma(va, a2);
            a3 = FloatVector.fromArray(F, w, w3 + i).fma(va, a3);
        }
        out[0] = tail(w, w0, x, xa, vk, k, sumLanes(a0));
        out[1] = tail(w, w1, x, xa, vk, k, sumLanes(a1));
        out[2] = tail(w, w2, x, xa, vk, k, sumLanes(a2));
        out[3] = tail(w, w3, x, xa, vk, k, sumLanes(a3));
    }

    private static float tail(float[] w, int wOff, float[] x, int xOff, int from, int k, float s) {
        for (int i = from; i < k; i++) {
            s = Math.fma(w[wOff + i], x[xOff + i], s);
        }
        return s;
    }

    /** {@code y[yOff..+n) += a * x[xOff..+n)} (element-wise, so order-free). */
    public static void axpy(float a, float[] x, int xOff, float[] y, int yOff, int n) {
        int vn = n & ~(LANES - 1);
        FloatVector va = FloatVector.broadcast(F, a);
        for (int i = 0; i < vn; i += LANES) {
            FloatVector.fromArray(F, x, xOff + i)
                    .fma(va, FloatVector.fromArray(F, y, yOff + i))
                    .intoArray(y, yOff + i);
        }
        for (int i = vn; i < n; i++) {
            y[yOff + i] = Math.fma(a, x[xOff + i], y[yOff + i]);
        }
    }

    /** {@code y[yOff..+n) += x[xOff..+n)}. */
    public static void add(float[] x, int xOff, float[] y, int yOff, int n) {
        int vn = n & ~(LANES - 1);
        for (int i = 0; i < vn; i += LANES) {
            FloatVector.fromArray(F, x, xOff + i)
                    .add(FloatVector.fromArray(F, y, yOff + i))
                    .intoArray(y, yOff + i);
        }
        for (int i = vn; i < n; i++) {
            y[yOff + i] += x[xOff + i];
        }
    }

    /**
     * RMSNorm as transformers computes it in float32: {@code out = weight * (x * rsqrt(mean(x^2) + eps))}. The sum of
     * squares is a canonical {@link #dot}.
     */
    public static void rmsNorm(float[] x, int xOff, float[] weight, double eps, float[] out, int outOff, int n) {
        float meanSquare = dot(x, xOff, x, xOff, n) / n;
        float inv = (float) (1.0 / Math.sqrt((double) (meanSquare + (float) eps)));
        for (int i = 0; i < n; i++) {
            out[outOff + i] = weight[i] * (x[xOff + i] * inv);
        }
    }

    /** SwiGLU: {@code gate[i] = silu(gate[i]) * up[i]}, silu(g) = g / (1 + e^-g). */
    public static void siluMul(float[] gate, int gOff, float[] up, int uOff, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[gOff + i];
            gate[gOff + i] = (float) (g / (1.0 + Math.exp(-g))) * up[uOff + i];
        }
    }
}
