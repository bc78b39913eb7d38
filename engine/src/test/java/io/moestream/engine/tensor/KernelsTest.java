package io.moestream.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class KernelsTest {
    @Test
    void expIsWithinTwoUlpAndItsVectorAndScalarFormsAgreeBitwise() {
        SplittableRandom random = new SplittableRandom(7);
        float[] x = new float[8];
        float[] lanes = new float[8];
        for (int n = 0; n < 200_000; n++) {
            for (int l = 0; l < 8; l++) {
                x[l] = (float) (random.nextDouble() * 170 - 86);
            }
            Kernels.exp(FloatVector.fromArray(Kernels.F, x, 0)).intoArray(lanes, 0);
            for (int l = 0; l < 8; l++) {
                float scalar = Kernels.exp(x[l]);
                assertEquals(Float.floatToRawIntBits(scalar), Float.floatToRawIntBits(lanes[l]), "exp(" + x[l] + ")");
                double exact = Math.exp(x[l]);
                double ulps = Math.abs(scalar - exact) / Math.ulp((float) exact);
                assertTrue(ulps <= 2, "exp(" + x[l] + ") = " + scalar + ", exact " + exact + ": " + ulps + " ulp");
            }
        }
        assertEquals(1f, Kernels.exp(0f));
        assertTrue(Kernels.exp(-1000f) >= 0 && Kernels.exp(-1000f) < 1e-37f);
        assertTrue(Float.isFinite(Kernels.exp(1000f)));
    }

    @Test
    void siluMulMatchesItsDefinitionOnEveryLaneAndTheTail() {
        float[] gate = new float[19];
        float[] up = new float[19];
        float[] expected = new float[19];
        for (int i = 0; i < gate.length; i++) {
            gate[i] = (i - 9) * 1.7f;
            up[i] = 0.5f + i;
            double silu = gate[i] / (1 + Math.exp(-gate[i]));
            expected[i] = (float) (silu * up[i]);
        }
        Kernels.siluMul(gate, 0, up, 0, gate.length);
        for (int i = 0; i < gate.length; i++) {
            assertEquals(expected[i], gate[i], Math.abs(expected[i]) * 1e-6 + 1e-7, "element " + i);
        }
    }
}
