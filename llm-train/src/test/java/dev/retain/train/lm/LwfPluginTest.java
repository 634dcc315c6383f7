package dev.retain.train.lm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.Engines;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import org.junit.jupiter.api.Test;

/** The distillation term and its gradient, worked out by hand on a tiny case. */
class LwfPluginTest {

    @Test
    void distillationAndItsGradientByHand() {
        double temp = 2;
        float[] s = {1, 2, 3, 0.5f, 0.5f, -1};
        float[] t = {3, 2, 1, 0, 1, 0};
        // By hand, per position: p = softmax(t / T), q = softmax(s / T),
        // KL = sum p (log p - log q); the term is T^2 times the mean over the two positions,
        // and its gradient with respect to s is T^2 / 2 * (q - p) / T = T / 2 * (q - p).
        double kl = 0;
        double[] grad = new double[6];
        for (int pos = 0; pos < 2; pos++) {
            double[] p = softmax(t, pos * 3, temp);
            double[] q = softmax(s, pos * 3, temp);
            for (int v = 0; v < 3; v++) {
                kl += p[v] * (Math.log(p[v]) - Math.log(q[v]));
                grad[pos * 3 + v] = temp / 2 * (q[v] - p[v]);
            }
        }
        double expected = temp * temp * kl / 2;
        try (NDManager m = Engines.pytorch().newBaseManager()) {
            NDArray student = m.create(s, new Shape(1, 2, 3));
            student.setRequiresGradient(true);
            NDArray teacher = m.create(t, new Shape(1, 2, 3));
            try (GradientCollector gc = Engines.pytorch().newGradientCollector()) {
                NDArray term = LwfPlugin.distillation(student, teacher, temp);
                assertEquals(expected, term.getFloat(), 1e-6);
                gc.backward(term);
            }
            float[] g = student.getGradient().toFloatArray();
            for (int i = 0; i < 6; i++) {
                assertEquals(grad[i], g[i], 1e-6, "d term / d s[" + i + "]");
            }
            // The same distributions give no term.
            assertEquals(0, LwfPlugin.distillation(teacher, teacher, temp).getFloat(), 1e-7);
        }
        assertTrue(expected > 0);
    }

    private static double[] softmax(float[] x, int from, double temp) {
        double[] e = new double[3];
        double sum = 0;
        for (int v = 0; v < 3; v++) {
            e[v] = Math.exp(x[from + v] / temp);
            sum += e[v];
        }
        for (int v = 0; v < 3; v++) {
            e[v] /= sum;
        }
        return e;
    }
}
