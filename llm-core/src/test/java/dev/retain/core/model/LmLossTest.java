package dev.retain.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.Engines;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import org.junit.jupiter.api.Test;

/**
 * The next-token NLL against a hand computation: position t's logits predict token t+1, the last
 * position predicts nothing (and gets no gradient), whatever placeholder the shifted targets hold.
 */
class LmLossTest {

    /** -log softmax(row)[k], computed in double. */
    private static double nll(float[] row, int k) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : row) {
            max = Math.max(max, x);
        }
        double sum = 0;
        for (float x : row) {
            sum += Math.exp(x - max);
        }
        return -(row[k] - max - Math.log(sum));
    }

    @Test
    void tokenNllMatchesHandComputationAndSkipsTheLastPosition() {
        Engines.pytorch();
        // B = 2 windows, T = 3 positions, V = 4 words.
        float[][][] l = {
            {{0.5f, -1f, 2f, 0f}, {1f, 1f, 1f, 3f}, {9f, -9f, 0f, 0f}},
            {{-2f, 0f, 0.25f, 4f}, {0f, 0f, 0f, 0f}, {1f, 2f, 3f, 4f}},
        };
        long[][] ids = {{3, 2, 3}, {1, 0, 2}};
        float[] flat = new float[2 * 3 * 4];
        for (int b = 0; b < 2; b++) {
            for (int t = 0; t < 3; t++) {
                System.arraycopy(l[b][t], 0, flat, (b * 3 + t) * 4, 4);
            }
        }
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray logits = m.create(flat, new Shape(2, 3, 4));
            logits.setRequiresGradient(true);
            NDArray input = m.create(new long[] {3, 2, 3, 1, 0, 2}, new Shape(2, 3));
            float[] got;
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray tok = LmLoss.tokenNll(logits, input);
                assertEquals(new Shape(2, 2), tok.getShape());
                got = tok.toFloatArray();
                gc.backward(tok.sum());
            }
            for (int b = 0; b < 2; b++) {
                for (int t = 0; t < 2; t++) {
                    assertEquals(nll(l[b][t], (int) ids[b][t + 1]), got[b * 2 + t], 1e-5,
                            "window " + b + " position " + t);
                }
            }
            // d NLL / d logits = softmax - onehot(target) on predicting positions, 0 on the last.
            float[] grad = logits.getGradient().toFloatArray();
            for (int b = 0; b < 2; b++) {
                float[] last = java.util.Arrays.copyOfRange(grad, (b * 3 + 2) * 4, (b * 3 + 3) * 4);
                assertArrayEquals(new float[4], last, 0f);
                float[] first = java.util.Arrays.copyOfRange(grad, (b * 3) * 4, (b * 3 + 1) * 4);
                double sum = 0;
                for (float x : l[b][0]) {
                    sum += Math.exp(x);
                }
                for (int v = 0; v < 4; v++) {
                    double p = Math.exp(l[b][0][v]) / sum;
                    assertEquals(p - (v == ids[b][1] ? 1 : 0), first[v], 1e-5);
                }
            }
        }
    }

    @Test
    void shiftLeftAlignsEachPositionWithItsNextToken() {
        Engines.pytorch();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray input = m.create(new long[] {5, 6, 7, 8, 1, 2, 3, 4}, new Shape(2, 4));
            assertArrayEquals(new long[] {6, 7, 8, 5, 2, 3, 4, 1},
                    LmLoss.shiftLeft(input).toLongArray());
        }
    }

    @Test
    void evalTokenNllIsTheExactLogSumExpOverAWholeVocabulary() {
        Engines.pytorch();
        int v = 50_257;
        int t = 5;
        java.util.Random rnd = new java.util.Random(20261207);
        float[] flat = new float[t * v];
        for (int i = 0; i < flat.length; i++) {
            // rows 0-1: a nearly flat distribution (many similar exponentials: a float32
            // log-softmax's lane sums drift most); rows 2-4: spread out, as a trained model's
            flat[i] = (float) (i < 2 * v ? 0.01 * rnd.nextGaussian() : 4 * rnd.nextGaussian());
        }
        // row p predicts ids[p + 1]
        long[] ids = {7, 123, 50_000, 42, 9};
        flat[v + 50_000] = flat[v + 17] = 30f; // a tie at the top (argmax 17), then the target
        flat[2 * v + 42] = -200f; // the target 200 nats below the top: its exp(...) underflows
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray logits = m.create(flat, new Shape(1, t, v));
            NDArray input = m.create(ids, new Shape(1, t));
            float[] exact = LmLoss.evalTokenNll(logits, input, logits.argMax(-1)).toFloatArray();
            float[] fused = LmLoss.tokenNll(logits, input).toFloatArray();
            assertEquals(t - 1, exact.length);
            double worstFused = 0;
            for (int p = 0; p < t - 1; p++) {
                float[] row = java.util.Arrays.copyOfRange(flat, p * v, (p + 1) * v);
                double want = nll(row, (int) ids[p + 1]);
                // float32's own rounding of the result and of its three terms
                assertEquals(want, exact[p], 4 * Math.ulp((float) want), "row " + p);
                worstFused = Math.max(worstFused, Math.abs(fused[p] - want) / Math.ulp((float) want));
            }
            assertTrue(exact[2] > 200 && Float.isFinite(exact[2]), "row 2: " + exact[2]);
            System.out.printf(java.util.Locale.ROOT, "float32 log-softmax: up to %.1f ulps off%n",
                    worstFused);
        }
    }
}
