package dev.retain.train.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.retain.core.Engines;
import dev.retain.core.model.NamedParameter;
import dev.retain.train.config.Settings;
import dev.retain.train.optim.AdamW;
import dev.retain.train.optim.GradClip;
import dev.retain.train.optim.Schedule;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import org.junit.jupiter.api.Test;

import java.util.List;

/** AdamW, clipping and the schedule against hand computations. */
class OptimTest {

    @Test
    void adamwStepsByHand() {
        Engines.pytorch();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray w = m.create(new float[][] {{1f, -2f}});
            w.setRequiresGradient(true);
            List<NamedParameter> ps = List.of(new NamedParameter("w", w));
            AdamW opt = new AdamW(m, 0.9, 0.999, 1e-8);
            for (int step = 1; step <= 2; step++) {
                try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                    gc.backward(w.mul(w).sum().mul(0.5f)); // grad = w
                }
                opt.step(ps, 0.1, 0.01, false, 1.0);
            }
            // By hand, element 1.0: step 1: decay 1 - 0.1*0.01 -> 0.999; g = 1; m = 0.1,
            // v = 0.001; lr_t = 0.1 * sqrt(0.001) / 0.1 = 0.0316228; update = lr_t * 0.1 /
            // (sqrt(0.001) + 1e-8) = 0.1 -> w = 0.899.
            // step 2: g = 0.899; decay -> 0.899 * 0.999 = 0.898101; m = 0.09 + 0.0899 = 0.1799;
            // v = 0.000999 + 0.000808201 = 0.001807201; lr_t = 0.1 * sqrt(1 - 0.999^2) / (1 -
            // 0.81) = 0.1 * 0.0447102 / 0.19 = 0.0235317; update = 0.0235317 * 0.1799 /
            // 0.0425112 = 0.0995816 -> w = 0.798519.
            assertEquals(0.798519f, w.toFloatArray()[0], 2e-5f);
            // The gradient was zeroed after the update.
            assertEquals(0f, w.getGradient().abs().sum().getFloat());
            assertEquals(2, opt.stepCount());
            opt.close();
        }
    }

    @Test
    void globalNormAndClipScale() {
        Engines.pytorch();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray a = m.create(new float[] {3f});
            NDArray b = m.create(new float[] {0f, 0f});
            NDArray c = m.zeros(new Shape(2, 2));
            a.setRequiresGradient(true);
            b.setRequiresGradient(true);
            c.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                // loss = a + 4*b0 + sum(c * [[1,2],[2,0]]) -> grads 1, (4, 0), [[1,2],[2,0]]:
                // squares 1 + 16 + 9 = 26. (A matrix's own 2-norm, its largest singular value,
                // is 2.56 here: the global norm must treat each gradient as one flat vector.)
                NDArray w = m.create(new float[] {1f, 2f, 2f, 0f}, new Shape(2, 2));
                gc.backward(a.sum().add(b.get(0).mul(4f)).add(c.mul(w).sum()));
            }
            double norm = GradClip.norm(List.of(new NamedParameter("a", a),
                    new NamedParameter("b", b), new NamedParameter("c", c)), m, 1.0);
            assertEquals(Math.sqrt(26), norm, 1e-6);
            assertEquals(1.0, GradClip.scale(norm, 10), 0);
            assertEquals(2 / (Math.sqrt(26) + 1e-6), GradClip.scale(norm, 2), 1e-7);
            assertEquals(1.0, GradClip.scale(norm, 0), 0);
        }
    }

    @Test
    void warmupThenCosine() {
        Schedule s = new Schedule(1.0, 4, 13, 0.1); // decay over steps 4..12
        assertEquals(0.2, s.lr(0), 1e-12); // (0+1)/(4+1)
        assertEquals(0.8, s.lr(3), 1e-12);
        assertEquals(1.0, s.lr(4), 1e-12); // peak right after warm-up
        assertEquals(0.55, s.lr(8), 1e-12); // half-way through the decay: 0.1 + 0.9 * 0.5
        assertEquals(0.1, s.lr(12), 1e-12); // last step: the floor
    }

    @Test
    void warmupStableDecayAndConstant() {
        // 10 steps, warm-up 2, decay over the last 20% = 2 steps, floor 0.1
        Schedule s = new Schedule(1.0, 2, 10, 0.1, "wsd", 0.2);
        assertEquals(1.0 / 3, s.lr(0), 1e-12); // (0+1)/(2+1)
        assertEquals(2.0 / 3, s.lr(1), 1e-12);
        for (int k = 2; k <= 7; k++) {
            assertEquals(1.0, s.lr(k), 1e-12, "stable at the peak, step " + k);
        }
        assertEquals(0.55, s.lr(8), 1e-12); // half-way down the linear decay: 1 - 0.5 * 0.9
        assertEquals(0.1, s.lr(9), 1e-12); // last step: the floor
        Schedule c = new Schedule(1.0, 2, 10, 0.1, "constant", 0);
        assertEquals(2.0 / 3, c.lr(1), 1e-12);
        assertEquals(1.0, c.lr(9), 1e-12);
    }

    @Test
    void withoutRewarmingOnlyTheFirstDomainWarmsUp() {
        java.util.Map<String, Object> m = new java.util.HashMap<>(java.util.Map.of(
                "learning-rate", 1.0, "warmup-steps", 4, "min-lr-ratio", 0.1));
        m.put("rewarm", "off");
        Settings off = dev.retain.train.TrainConfig.fromValues(m, "test").settings();
        assertEquals(0.2, Schedule.of(off, 0, 13).lr(0), 1e-12, "first domain: warm-up");
        assertEquals(1.0, Schedule.of(off, 1, 13).lr(0), 1e-12, "second: the peak at once");
        m.put("rewarm", "on");
        Settings on = dev.retain.train.TrainConfig.fromValues(m, "test").settings();
        assertEquals(0.2, Schedule.of(on, 1, 13).lr(0), 1e-12, "re-warmed");
    }
}
