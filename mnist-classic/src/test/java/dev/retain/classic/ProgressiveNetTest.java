package dev.retain.classic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.model.NamedParameter;
import dev.retain.classic.data.Scenario;
import dev.retain.classic.data.SplitMnist;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Progressive networks cannot forget: earlier columns are bit-identical after later tasks. */
class ProgressiveNetTest {

    @Test
    void earlierColumnsAreBitIdenticalAfterLaterTasks() {
        ClassicConfig c = ClassicFixtures.tiny("split-mnist", Scenario.TASK);
        SplitMnist b = SplitMnist.of(ClassicFixtures.mnist());
        try (NDManager root = NDManager.newBaseManager(Device.cpu(), "PyTorch");
                ProgressiveNet net = new ProgressiveNet(root, 784, c.hidden(), 5, 2, 7)) {
            ClassicContext ctx = new ClassicContext(c, Strategy.PNN, b, net, root, 7);
            float[] probe = b.task(0).test().pixels(new int[] {0, 1, 2, 3, 4, 5, 6, 7});
            try (Learner learner = ClassicTrainer.learner(ctx, Strategy.PNN)) {
                train(ctx, net, learner, 0);
                float[] out0 = logits(root, net, probe, 0);
                List<float[]> col0 = snapshot(net.column(0));
                List<float[]> col1Before = snapshot(net.column(1));
                train(ctx, net, learner, 1);
                float[] out1 = logits(root, net, probe, 1);
                train(ctx, net, learner, 2);
                // the function answering task 0 (column 0) and task 1 (columns 0, 1) is unchanged
                assertArrayEquals(out0, logits(root, net, probe, 0));
                assertArrayEquals(out1, logits(root, net, probe, 1));
                assertTrue(same(col0, snapshot(net.column(0))), "column 0 changed");
                assertFalse(same(col1Before, snapshot(net.column(1))), "column 1 never trained");
                // column 1 has adapters from column 0; column 2 from columns 0 and 1
                assertTrue(net.column(1).stream().anyMatch(p -> p.name().contains("from0")));
                assertEquals(2, net.column(2).stream()
                        .filter(p -> p.name().startsWith("col2.fc2.from")).count());
                // column 2 trained, and only it is trainable now
                assertEquals(net.column(2), net.trainable());
            }
        }
    }

    @Test
    void accuracyOfATaskIsExactlyTheSameBeforeAndAfterLaterTasks() {
        ClassicConfig c = ClassicFixtures.tiny("split-mnist", Scenario.TASK);
        ClassicTrainer.SeedResult r = ClassicTrainer.run(c, Strategy.PNN,
                SplitMnist.of(ClassicFixtures.mnist()), 3, s -> { });
        double[][] a = r.accuracy();
        for (int j = 0; j < 5; j++) {
            assertTrue(a[j + 1][j] > 0.8, "task " + j + " learned: " + a[j + 1][j]);
            for (int k = j + 2; k <= 5; k++) {
                assertEquals(a[j + 1][j], a[k][j], 0.0, "task " + j + " after stage " + k);
            }
        }
    }

    private static void train(ClassicContext ctx, ProgressiveNet net, Learner learner, int t) {
        ctx.seenTasks = t + 1;
        net.startTask(t);
        learner.learnTask(ctx.benchmark.task(t));
        learner.afterTask(ctx.benchmark.task(t));
    }

    private static float[] logits(NDManager root, ProgressiveNet net, float[] px, int task) {
        try (NDManager m = root.newSubManager()) {
            NDArray x = m.create(px, new Shape(px.length / 784, 784));
            return net.logits(x, task, false).toFloatArray();
        }
    }

    private static List<float[]> snapshot(List<NamedParameter> ps) {
        List<float[]> out = new ArrayList<>();
        for (NamedParameter p : ps) {
            out.add(p.array().toFloatArray());
        }
        return out;
    }

    private static boolean same(List<float[]> a, List<float[]> b) {
        for (int i = 0; i < a.size(); i++) {
            if (!Arrays.equals(a.get(i), b.get(i))) {
                return false;
            }
        }
        return true;
    }
}
