package dev.retain.train.ewc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.Engines;
import dev.retain.core.model.CausalLm;
import dev.retain.core.model.LmLoss;
import dev.retain.core.model.NamedParameter;
import dev.retain.core.text.TokenFile;
import dev.retain.train.Fixtures;
import dev.retain.train.ewc.EwcPenalty;
import dev.retain.train.lm.LmFisher;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** EWC's penalty and gradient, and the Fisher's definition, pinned by independent computations. */
class EwcAndFisherTest {

    @TempDir Path tmp;

    @Test
    void penaltyAndGradientByHand() {
        Engines.pytorch();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray theta = m.create(new float[] {1f, 2f, -1f});
            theta.setRequiresGradient(true);
            List<NamedParameter> params = List.of(new NamedParameter("w", theta));
            EwcPenalty ewc = new EwcPenalty(m, 2.0, 1.0);
            // theta* = (1, 2, -1) now; F = (0.5, 2, 4).
            Map<String, NDArray> f = new HashMap<>();
            f.put("w", m.create(new float[] {0.5f, 2f, 4f}));
            ewc.consolidate(params, f);
            // Move theta to (0, 3, -1): diff = (-1, 1, 0).
            theta.set(new float[] {0f, 3f, -1f});
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                gc.backward(theta.mul(0f).sum()); // defines a zero gradient
            }
            double p = ewc.addGradients(params, m);
            // lambda/2 * sum F diff^2 = 1 * (0.5*1 + 2*1 + 4*0) = 2.5
            assertEquals(2.5, p, 1e-6);
            // gradient lambda * F * diff = 2 * (0.5*-1, 2*1, 4*0) = (-1, 4, 0)
            assertArrayEquals(new float[] {-1f, 4f, 0f}, theta.getGradient().toFloatArray(), 1e-6f);
            assertEquals(2.5, ewc.value(params, m), 1e-6);
            // Online EWC: F = gamma F_old + F_new with gamma = 1 sums; theta* moves to theta.
            Map<String, NDArray> f2 = new HashMap<>();
            f2.put("w", m.create(new float[] {1f, 1f, 1f}));
            ewc.consolidate(params, f2);
            assertArrayEquals(new float[] {1.5f, 3f, 5f}, ewc.fisher().get("w").toFloatArray());
            assertArrayEquals(new float[] {0f, 3f, -1f}, ewc.anchor().get("w").toFloatArray());
            assertEquals(0, ewc.value(params, m), 1e-9);
            ewc.close();
        }
    }

    @Test
    void gammaDecaysOldFisher() {
        Engines.pytorch();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray theta = m.create(new float[] {1f});
            List<NamedParameter> params = List.of(new NamedParameter("w", theta));
            EwcPenalty ewc = new EwcPenalty(m, 1.0, 0.5);
            ewc.consolidate(params, new HashMap<>(Map.of("w", m.create(new float[] {4f}))));
            ewc.consolidate(params, new HashMap<>(Map.of("w", m.create(new float[] {1f}))));
            // 0.5 * 4 + 1 = 3
            assertEquals(3f, ewc.fisher().get("w").getFloat(), 1e-6f);
            ewc.close();
        }
    }

    /** Gradient of the mean NLL of each sequence, one backward per sequence, squared, averaged. */
    private static Map<String, float[]> fisherOneByOne(CausalLm lm, List<long[]> seqs) {
        Map<String, float[]> acc = new HashMap<>();
        for (long[] s : seqs) {
            try (NDManager scope = lm.manager().newSubManager()) {
                try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                    NDArray in = scope.create(s, new Shape(1, s.length));
                    gc.backward(LmLoss.tokenNll(lm.logits(in, true), in).mean());
                }
                for (NamedParameter p : lm.parameters()) {
                    float[] g = p.array().getGradient().toFloatArray();
                    float[] a = acc.computeIfAbsent(p.name(), k -> new float[g.length]);
                    for (int i = 0; i < g.length; i++) {
                        a[i] += g[i] * g[i] / seqs.size();
                    }
                    JniUtils.zeroGrad((PtNDArray) p.array());
                }
            }
        }
        return acc;
    }

    @Test
    void perSequenceFisherIsTheMeanOfSquaredPerSequenceGradients() throws Exception {
        int len = 16;
        int[] ids = new int[len * 5];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (i * 7919 + 13) % 50000;
        }
        Path f = tmp.resolve("t.tok");
        TokenFile.write(f, ids, 50257, "x", "y");
        TokenFile tokens = TokenFile.openOrNull(f);
        try (CausalLm lm = CausalLm.load(Fixtures.tiny(), Device.cpu(), 0)) {
            // 5 windows, 5 samples: every window once (order does not matter for a mean).
            Map<String, NDArray> fisher = LmFisher.estimate(lm, lm.parameters(), tokens,
                    new LmFisher.Spec(5, false, 1, len, 42), lm.manager());
            List<long[]> seqs = new ArrayList<>();
            for (int w = 0; w < 5; w++) {
                long[] s = new long[len];
                tokens.copy((long) w * len, s, 0, len);
                seqs.add(s);
            }
            Map<String, float[]> ref = fisherOneByOne(lm, seqs);
            double maxRel = 0;
            for (NamedParameter p : lm.parameters()) {
                float[] got = fisher.get(p.name()).toFloatArray();
                float[] want = ref.get(p.name());
                double scale = 1e-30;
                for (float w : want) {
                    scale = Math.max(scale, Math.abs(w));
                }
                for (int i = 0; i < got.length; i++) {
                    maxRel = Math.max(maxRel, Math.abs(got[i] - want[i]) / scale);
                }
            }
            assertTrue(maxRel < 1e-4, "max relative difference " + maxRel);
            // Batched over all 5: the square of the gradient of the batch mean is smaller.
            Map<String, NDArray> batched = LmFisher.estimate(lm, lm.parameters(), tokens,
                    new LmFisher.Spec(5, false, 5, len, 42), lm.manager());
            double sumPer = fisher.values().stream().mapToDouble(a -> a.sum().getFloat()).sum();
            double sumBatch = batched.values().stream().mapToDouble(a -> a.sum().getFloat()).sum();
            assertTrue(sumBatch < sumPer, sumBatch + " < " + sumPer);
        }
    }
}
