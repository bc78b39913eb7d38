package io.moestream.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector kernels on activations (attention, norms, element-wise). Determinism (DESIGN.md section 3) rests on one
 * rule: each reduction is always computed the same way, whatever the batch or thread count. {@link #dot}: 8 lane-wise
 * FMA accumulators over {@code i = 0, 8, 16, ...}, the lanes summed in a fixed tree, then the {@code k % 8} tail added
 * by scalar FMAs in order. The 256-bit species is fixed (not the platform's preferred one) so that every x86-64
 * machine with AVX2 or AVX-512 computes the same bits. Weight matrices have their own kernels ({@link Linear}).
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
