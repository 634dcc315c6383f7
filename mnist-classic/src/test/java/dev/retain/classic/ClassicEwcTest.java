package dev.retain.classic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.retain.core.model.NamedParameter;
import dev.retain.classic.data.Scenario;
import dev.retain.classic.data.SplitMnist;
import dev.retain.classic.data.Task;
import dev.retain.train.ewc.EwcPenalty;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The classifiers' EWC is the language-model trainer's: {@link dev.retain.train.ewc.Fisher}
 * estimates the Fisher and {@link EwcPenalty} holds it, and both agree with a computation by
 * hand (per-example gradients from {@link Mlp#lossGradients}, squared and averaged; the penalty
 * and its gradient summed in Java).
 */
class ClassicEwcTest {

    static final double LAMBDA = 123.0;

    @Test
    void penaltyEqualsHandComputationThroughTheSharedClasses() {
        ClassicConfig c = ClassicFixtures.tiny("split-mnist", Scenario.TASK, "hidden", "16",
                "fisher-samples", "12", "fisher-mode", "empirical", "ewc-lambda",
                String.valueOf(LAMBDA));
        SplitMnist b = SplitMnist.of(ClassicFixtures.mnist());
        OutputLayout layout = OutputLayout.of(b, Scenario.TASK);
        try (NDManager root = NDManager.newBaseManager(Device.cpu(), "PyTorch");
                Mlp mlp = new Mlp(root, 784, c.hidden(), layout.total(), 5)) {
            ClassicContext ctx = new ClassicContext(c, Strategy.EWC, b, mlp, root, 5);
            ctx.seenTasks = 1;
            Task task = b.task(0);
            List<NamedParameter> params = mlp.trainable();
            List<float[]> anchor = values(params);
            try (EwcRegularizer ewc = new EwcRegularizer(ctx, false)) {
                ewc.afterTask(task);
                assertEquals(1, ewc.penalties().size());
                EwcPenalty penalty = ewc.penalties().get(0);
                assertSame(EwcPenalty.class, penalty.getClass());

                // Fisher by hand: the same 12 examples, one at a time, squared gradients / 12
                int[] order = task.train().shuffledOrder(ctx.rng("fisher", 0).nextLong());
                List<double[]> fisher = new ArrayList<>();
                for (float[] a : anchor) {
                    fisher.add(new double[a.length]);
                }
                for (int u = 0; u < 12; u++) {
                    try (NDManager m = root.newSubManager()) {
                        Minibatch one = ctx.minibatch(List.of(new ExampleRef(0, order[u])));
                        List<NDArray> w = new ArrayList<>();
                        params.forEach(p -> w.add(p.array()));
                        List<NDArray> g = mlp.lossGradients(one.x(m), one.mask(m, layout, 1),
                                one.oneHot(m, layout), w);
                        for (int i = 0; i < g.size(); i++) {
                            float[] gv = g.get(i).toFloatArray();
                            for (int k = 0; k < gv.length; k++) {
                                fisher.get(i)[k] += (double) gv[k] * gv[k] / 12;
                            }
                        }
                    }
                }
                for (int i = 0; i < params.size(); i++) {
                    float[] f = penalty.fisher().get(params.get(i).name()).toFloatArray();
                    assertClose(fisher.get(i), f, 1e-5, params.get(i).name());
                }

                // move the parameters, then the penalty and its gradient by hand
                Random r = new Random(9);
                double hand = 0;
                List<double[]> handGrad = new ArrayList<>();
                for (int i = 0; i < params.size(); i++) {
                    float[] v = anchor.get(i).clone();
                    double[] hg = new double[v.length];
                    for (int k = 0; k < v.length; k++) {
                        float d = (float) (r.nextGaussian() * 0.05);
                        v[k] += d;
                        double diff = (double) v[k] - anchor.get(i)[k];
                        hand += LAMBDA / 2 * fisher.get(i)[k] * diff * diff;
                        hg[k] = LAMBDA * fisher.get(i)[k] * diff;
                    }
                    params.get(i).array().set(v);
                    handGrad.add(hg);
                }
                try (NDManager m = root.newSubManager()) {
                    assertEquals(hand, ewc.value(params, m), 1e-5 * hand);
                    // a zero data loss, so the gradient is the penalty's alone
                    try (GradientCollector gc = Engine.getEngine("PyTorch")
                            .newGradientCollector()) {
                        NDArray zero = null;
                        for (NamedParameter p : params) {
                            NDArray s = p.array().mul(0f).sum();
                            zero = zero == null ? s : zero.add(s);
                        }
                        gc.backward(zero);
                    }
                    assertEquals(hand, ewc.afterBackward(params, m), 1e-5 * hand);
                    for (int i = 0; i < params.size(); i++) {
                        assertClose(handGrad.get(i), params.get(i).array().getGradient()
                                .toFloatArray(), 1e-4, params.get(i).name());
                    }
                }
            }
        }
    }

    @Test
    void ewcKeepsOnePenaltyPerTaskOnlineEwcOne() {
        ClassicConfig c = ClassicFixtures.tiny("split-mnist", Scenario.CLASS, "hidden", "8",
                "fisher-samples", "4");
        SplitMnist b = SplitMnist.of(ClassicFixtures.mnist());
        for (boolean online : new boolean[] {false, true}) {
            try (NDManager root = NDManager.newBaseManager(Device.cpu(), "PyTorch");
                    Mlp mlp = new Mlp(root, 784, c.hidden(), 10, 5);
                    EwcRegularizer ewc = new EwcRegularizer(new ClassicContext(c,
                            Strategy.EWC, b, mlp, root, 5), online)) {
                NDManager pm = mlp.trainable().get(0).array().getManager();
                int arrays = pm.getManagedArrays().size();
                for (int t = 0; t < 3; t++) {
                    ewc.afterTask(b.task(t));
                }
                assertEquals(online ? 1 : 3, ewc.penalties().size());
                // nothing of the estimates is left on the parameters' manager
                assertEquals(arrays, pm.getManagedArrays().size());
            }
        }
    }

    private static List<float[]> values(List<NamedParameter> ps) {
        List<float[]> out = new ArrayList<>();
        ps.forEach(p -> out.add(p.array().toFloatArray()));
        return out;
    }

    static void assertClose(double[] expected, float[] actual, double rel, String what) {
        double scale = 0;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int k = 0; k < expected.length; k++) {
            assertEquals(expected[k], actual[k], rel * scale + 1e-12, what + "[" + k + "]");
        }
    }
}
