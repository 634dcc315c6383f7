package dev.retain.classic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.Engines;
import dev.retain.core.model.NamedParameter;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/**
 * MAML's meta-gradient is second-order and right: the hand-written inner gradient equals DJL's
 * autograd gradient, and the meta-gradient through it equals the one libtorch computes with
 * {@code backward(create_graph=true)} (which works in DJL 0.36, but leaks; see Mlp).
 */
class MamlGradientTest {

    static final float ALPHA = 0.5f;

    @Test
    void handGradientEqualsAutograd() {
        Engine e = Engines.pytorch();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch");
                Mlp mlp = new Mlp(m, 12, new int[] {6, 5}, 4, 3)) {
            Batch b = batch(m, 7, 11);
            try (GradientCollector gc = e.newGradientCollector()) {
                gc.backward(Losses.crossEntropy(mlp.logits(b.x, 0, true), b.mask, b.oneHot));
            }
            List<NDArray> hand = mlp.lossGradients(b.x, b.mask, b.oneHot, weights(mlp));
            for (int i = 0; i < hand.size(); i++) {
                NamedParameter p = mlp.trainable().get(i);
                assertArrayEquals(p.array().getGradient().toFloatArray(), hand.get(i)
                        .toFloatArray(), 1e-6f, p.name());
                JniUtils.zeroGrad((PtNDArray) p.array());
            }
        }
    }

    @Test
    void metaGradientEqualsCreateGraphSecondOrder() {
        Engine e = Engines.pytorch();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch");
                Mlp mlp = new Mlp(m, 12, new int[] {6, 5}, 4, 3)) {
            Batch support = batch(m, 6, 21);
            Batch query = batch(m, 9, 22);
            List<NDArray> w = weights(mlp);
            // ours: the inner gradient as tensor operations
            try (GradientCollector gc = e.newGradientCollector()) {
                List<NDArray> g = mlp.lossGradients(support.x, support.mask, support.oneHot, w);
                gc.backward(queryLoss(mlp, query, w, g));
            }
            List<float[]> ours = grads(mlp);
            // first-order MAML for contrast: the inner gradient as a constant
            try (GradientCollector gc = e.newGradientCollector()) {
                List<NDArray> g = mlp.lossGradients(support.x, support.mask, support.oneHot, w);
                List<NDArray> stopped = new ArrayList<>();
                g.forEach(x -> stopped.add(x.stopGradient()));
                gc.backward(queryLoss(mlp, query, w, stopped));
            }
            List<float[]> firstOrder = grads(mlp);
            // reference: libtorch's own second-order gradient through the .grad of the weights
            List<float[]> reference = new ArrayList<>();
            try (GradientCollector gc = e.newGradientCollector()) {
                NDArray ls = Losses.crossEntropy(mlp.logits(support.x, 0, true), support.mask,
                        support.oneHot);
                JniUtils.backward((PtNDArray) ls, (PtNDArray) m.ones(ls.getShape()), true, true);
                List<NDArray> g = new ArrayList<>();
                List<float[]> inner = new ArrayList<>();
                for (NDArray x : w) {
                    g.add(x.getGradient());
                    inner.add(x.getGradient().toFloatArray());
                }
                gc.backward(queryLoss(mlp, query, w, g));
                for (int i = 0; i < w.size(); i++) {
                    float[] total = w.get(i).getGradient().toFloatArray();
                    for (int k = 0; k < total.length; k++) {
                        total[k] -= inner.get(i)[k]; // .grad held the inner gradient first
                    }
                    reference.add(total);
                }
            }
            double differs = 0;
            for (int i = 0; i < w.size(); i++) {
                assertArrayEquals(reference.get(i), ours.get(i), 1e-5f,
                        mlp.trainable().get(i).name());
                for (int k = 0; k < ours.get(i).length; k++) {
                    differs = Math.max(differs, Math.abs(ours.get(i)[k]
                            - firstOrder.get(i)[k]));
                }
            }
            assertTrue(differs > 1e-4, "the second-order term is not zero: " + differs);
        }
    }

    private static NDArray queryLoss(Mlp mlp, Batch q, List<NDArray> w, List<NDArray> g) {
        List<NDArray> fast = new ArrayList<>();
        for (int i = 0; i < w.size(); i++) {
            fast.add(g.get(i).mul(-ALPHA).add(w.get(i)));
        }
        return Losses.crossEntropy(mlp.logits(q.x, fast), q.mask, q.oneHot);
    }

    private static List<NDArray> weights(Mlp mlp) {
        List<NDArray> w = new ArrayList<>();
        mlp.trainable().forEach(p -> w.add(p.array()));
        return w;
    }

    private static List<float[]> grads(Mlp mlp) {
        List<float[]> out = new ArrayList<>();
        for (NamedParameter p : mlp.trainable()) {
            out.add(p.array().getGradient().toFloatArray());
            JniUtils.zeroGrad((PtNDArray) p.array());
        }
        return out;
    }

    record Batch(NDArray x, NDArray mask, NDArray oneHot) {}

    /** n examples of 12 inputs, 4 outputs of which the last is masked out, targets in 0..2. */
    private static Batch batch(NDManager m, int n, long seed) {
        NDArray x = ClassicFixtures.pseudoRandom(m, n, 12, seed).mul(2f);
        float[] mask = new float[n * 4];
        float[] oh = new float[n * 4];
        for (int i = 0; i < n; i++) {
            mask[i * 4 + 3] = Minibatch.MASKED;
            oh[i * 4 + (int) ((seed + i) % 3)] = 1f;
        }
        return new Batch(x, m.create(mask, new Shape(n, 4)), m.create(oh, new Shape(n, 4)));
    }
}
