package dev.retain.train.classic;

import dev.retain.core.Engines;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

class ScratchPerfTest {

    static long rss() throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith("VmRSS")) return Long.parseLong(l.replaceAll("\\D", "")) / 1024;
        }
        return -1;
    }

    @Test
    void secondOrder() throws Exception {
        Engine e = Engines.pytorch();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray w = m.create(new float[] {1f, 2f, 3f});
            w.setRequiresGradient(true);
            try (GradientCollector gc = e.newGradientCollector()) {
                NDArray f = w.pow(3).sum();
                JniUtils.backward((PtNDArray) f, (PtNDArray) m.ones(f.getShape()), false, true);
                NDArray g = w.getGradient();
                float[] gv = g.toFloatArray();
                NDArray L = g.square().sum(); // d/dw sum (3w^2)^2 = 36 w^3
                JniUtils.backward((PtNDArray) L, (PtNDArray) m.ones(L.getShape()), false, false);
                float[] after = w.getGradient().toFloatArray();
                System.out.println("g=" + java.util.Arrays.toString(gv) + " after-g: " + (after[0]-gv[0]) + "," + (after[1]-gv[1]) + "," + (after[2]-gv[2]) + " expect 36w^3 = [36, 288, 972]");
            }
        }
        // leak check: fresh leaf per step, create_graph inner backward, outer backward
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray W0 = m.randomNormal(new Shape(400, 784)).mul(0.03f);
            NDArray x = m.randomUniform(0, 1, new Shape(64, 784));
            System.out.println("rss start " + rss() + " MB");
            for (int s = 0; s < 300; s++) {
                try (NDManager sc = m.newSubManager()) {
                    NDArray phi = W0.duplicate();
                    phi.attach(sc);
                    phi.setRequiresGradient(true);
                    try (GradientCollector gc = e.newGradientCollector()) {
                        NDArray ls = x.dot(phi.transpose()).tanh().sum();
                        JniUtils.backward((PtNDArray) ls, (PtNDArray) sc.ones(ls.getShape()), true, true);
                        NDArray fast = phi.sub(phi.getGradient().mul(0.01f));
                        NDArray lq = x.dot(fast.transpose()).tanh().square().sum();
                        gc.backward(lq);
                    }
                }
                if (s % 100 == 99) System.out.println("rss after " + (s + 1) + " steps " + rss() + " MB");
            }
        }
    }
}
