package io.moestream.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
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
        int vn = n & ~(LANES - 1);
        FloatVector vinv = broadcast(inv);
        for (int i = 0; i < vn; i += LANES) {
            FloatVector.fromArray(F, weight, i)
                    .mul(FloatVector.fromArray(F, x, xOff + i).mul(vinv))
                    .intoArray(out, outOff + i);
        }
        for (int i = vn; i < n; i++) {
            out[outOff + i] = weight[i] * (x[xOff + i] * inv);
        }
    }

    /**
     * transformers' unweighted RMSNorm: {@code out = x * rsqrt(mean(x^2) + eps)}, the sum of squares a canonical
     * {@link #dot}.
     */
    public static void rmsNormUnweighted(float[] x, int xOff, double eps, float[] out, int outOff, int n) {
        float meanSquare = dot(x, xOff, x, xOff, n) / n;
        float inv = (float) (1.0 / Math.sqrt((double) (meanSquare + (float) eps)));
        int vn = n & ~(LANES - 1);
        FloatVector vinv = broadcast(inv);
        for (int i = 0; i < vn; i += LANES) {
            FloatVector.fromArray(F, x, xOff + i).mul(vinv).intoArray(out, outOff + i);
        }
        for (int i = vn; i < n; i++) {
            out[outOff + i] = x[xOff + i] * inv;
        }
    }

    /** {@code y[yOff..+n) = a * x[xOff..+n)}. */
    public static void scale(float a, float[] x, int xOff, float[] y, int yOff, int n) {
        int vn = n & ~(LANES - 1);
        FloatVector va = FloatVector.broadcast(F, a);
        for (int i = 0; i < vn; i += LANES) {
            FloatVector.fromArray(F, x, xOff + i).mul(va).intoArray(y, yOff + i);
        }
        for (int i = vn; i < n; i++) {
            y[yOff + i] = a * x[xOff + i];
        }
    }

    /**
     * Softmax of {@code s[off..off+n)} followed by one more logit {@code sink} that takes its share of the
     * probability and is then dropped (DeepSeek-V4's and gpt-oss' attention sinks): {@code e^(s - max) / (sum +
     * e^(sink - max))} with {@code max} over both; the sum in the order of {@link #softmax}, the sink's term last.
     */
    public static void softmaxWithSink(float[] s, int off, int n, float sink) {
        softmax(s, off, n, true, sink);
    }

    /**
     * Softmax of {@code s[off..off+n)} in place: {@code e^(s - max) / sum}, with {@link #exp}; the sum in the order of
     * {@link #dot} (8 lanes, fixed tree, then the tail).
     */
    public static void softmax(float[] s, int off, int n) {
        softmax(s, off, n, false, 0f);
    }

    private static void softmax(float[] s, int off, int n, boolean withSink, float sink) {
        int vn = n & ~(LANES - 1);
        float max = withSink ? sink : Float.NEGATIVE_INFINITY;
        if (vn > 0) {
            FloatVector m = FloatVector.fromArray(F, s, off);
            for (int i = LANES; i < vn; i += LANES) {
                m = m.max(FloatVector.fromArray(F, s, off + i));
            }
            max = Math.max(max, m.reduceLanes(VectorOperators.MAX));
        }
        for (int i = vn; i < n; i++) {
            max = Math.max(max, s[off + i]);
        }
        FloatVector vmax = broadcast(max);
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < vn; i += LANES) {
            FloatVector e = exp(FloatVector.fromArray(F, s, off + i).sub(vmax));
            e.intoArray(s, off + i);
            acc = acc.add(e);
        }
        float sum = sumLanes(acc);
        for (int i = vn; i < n; i++) {
            s[off + i] = exp(s[off + i] - max);
            sum += s[off + i];
        }
        if (withSink) {
            sum += exp(sink - max);
        }
        float inv = 1f / sum;
        FloatVector vinv = broadcast(inv);
        for (int i = 0; i < vn; i += LANES) {
            FloatVector.fromArray(F, s, off + i).mul(vinv).intoArray(s, off + i);
        }
        for (int i = vn; i < n; i++) {
            s[off + i] *= inv;
        }
    }

    /** {@code out[i] = e^((x[xOff + i] - max) * scale)} for {@code i < n}, with {@link #exp}. */
    public static void scaledExp(float[] x, int xOff, int n, float max, float scale, float[] out) {
        int vn = n & ~(LANES - 1);
        FloatVector vmax = broadcast(max);
        FloatVector vscale = broadcast(scale);
        for (int i = 0; i < vn; i += LANES) {
            exp(FloatVector.fromArray(F, x, xOff + i).sub(vmax).mul(vscale)).intoArray(out, i);
        }
        for (int i = vn; i < n; i++) {
            out[i] = exp((x[xOff + i] - max) * scale);
        }
    }

    /** SwiGLU: {@code gate[i] = silu(gate[i]) * up[i]}, silu(g) = g / (1 + e^-g) with e^x from {@link #exp}. */
    public static void siluMul(float[] gate, int gOff, float[] up, int uOff, int n) {
        int vn = n & ~(LANES - 1);
        FloatVector one = FloatVector.broadcast(F, 1f);
        for (int i = 0; i < vn; i += LANES) {
            FloatVector g = FloatVector.fromArray(F, gate, gOff + i);
            g.div(exp(g.neg()).add(one))
                    .mul(FloatVector.fromArray(F, up, uOff + i))
                    .intoArray(gate, gOff + i);
        }
        for (int i = vn; i < n; i++) {
            float g = gate[gOff + i];
            gate[gOff + i] = g / (exp(-g) + 1f) * up[uOff + i];
        }
    }

    /**
     * DeepSeek-V4's clipped SwiGLU: {@code gate[i] = silu(min(gate[i], limit)) * clamp(up[i], -limit, limit)}, with
     * the silu of {@link #siluMul}.
     */
    public static void siluMulClipped(float[] gate, int gOff, float[] up, int uOff, int n, float limit) {
        int vn = n & ~(LANES - 1);
        FloatVector one = FloatVector.broadcast(F, 1f);
        FloatVector hi = FloatVector.broadcast(F, limit);
        FloatVector lo = FloatVector.broadcast(F, -limit);
        for (int i = 0; i < vn; i += LANES) {
            FloatVector g = FloatVector.fromArray(F, gate, gOff + i).min(hi);
            FloatVector u = FloatVector.fromArray(F, up, uOff + i).max(lo).min(hi);
            g.div(exp(g.neg()).add(one)).mul(u).intoArray(gate, gOff + i);
        }
        for (int i = vn; i < n; i++) {
            float g = Math.min(gate[gOff + i], limit);
            float u = Math.min(Math.max(up[uOff + i], -limit), limit);
            gate[gOff + i] = g / (exp(-g) + 1f) * u;
        }
    }

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** 1.5 * 2^23: adding it rounds a float below 2^22 in magnitude to an integer (to nearest, ties to even). */
    private static final float ROUNDER = 12582912f;

    private static final float EXP_MIN = -87.3f;
    /** Below 127.5 ln 2, so that n stays at most 127 and 2^n a finite float. */
    private static final float EXP_MAX = 88.37f;

    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    /**
     * e^x in float32 (Cephes' expf: {@code x = n ln2 + r}, a degree-7 polynomial in r, times 2^n), within 2 ulp of the
     * true value, for x clamped to [-87.3, 88.37]. Only IEEE additions, multiplications, FMAs and bit moves, so the
     * lane-wise form and {@link #exp(float)} give the same bits on every machine (Math.exp and the Vector API's EXP
     * may differ between JVMs and CPUs).
     */
    public static FloatVector exp(FloatVector x) {
        x = x.max(EXP_MIN).min(EXP_MAX);
        FloatVector rounded = x.fma(broadcast(LOG2E), broadcast(ROUNDER));
        FloatVector n = rounded.sub(ROUNDER);
        FloatVector r = n.fma(broadcast(-LN2_HI), x);
        r = n.fma(broadcast(-LN2_LO), r);
        FloatVector p = r.fma(broadcast(P0), broadcast(P1));
        p = p.fma(r, broadcast(P2));
        p = p.fma(r, broadcast(P3));
        p = p.fma(r, broadcast(P4));
        p = p.fma(r, broadcast(P5));
        FloatVector r2 = r.mul(r);
        p = p.fma(r2, r).add(1f);
        IntVector bits = rounded.reinterpretAsInts()
                .sub(Float.floatToRawIntBits(ROUNDER))
                .add(127)
                .lanewise(VectorOperators.LSHL, 23);
        return p.mul(bits.reinterpretAsFloats());
    }

    private static FloatVector broadcast(float value) {
        return FloatVector.broadcast(F, value);
    }

    /** The scalar twin of {@link #exp(FloatVector)}: the same operations, the same bits. */
    public static float exp(float x) {
        x = Math.min(Math.max(x, EXP_MIN), EXP_MAX);
        float rounded = Math.fma(x, LOG2E, ROUNDER);
        float n = rounded - ROUNDER;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, P0, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float r2 = r * r;
        p = Math.fma(p, r2, r) + 1f;
        int bits = (Float.floatToRawIntBits(rounded) - Float.floatToRawIntBits(ROUNDER) + 127) << 23;
        return p * Float.intBitsToFloat(bits);
    }
}
