package dev.retain.train.classic;

import dev.retain.core.Engines;
import dev.retain.train.classic.data.*;
import dev.retain.train.optim.AdamW;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;

import org.junit.jupiter.api.Test;

class ScratchStepTest {
    @Test
    void steps() {
        Engine e = Engines.pytorch();
        int th = Integer.getInteger("th", 2);
        JniUtils.setNumThreads(th);
        JniUtils.setNumInteropThreads(1);
        Mnist mnist = Mnist.loadDefault();
        SplitMnist sm = SplitMnist.of(mnist);
        OutputLayout lay = OutputLayout.of(sm, Scenario.TASK);
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch");
                Mlp mlp = new Mlp(m, 784, new int[] {400, 400}, lay.total(), 1);
                AdamW opt = new AdamW(m, 0.9, 0.999, 1e-8)) {
            Task t = sm.task(0);
            long t0 = System.nanoTime();
            int s = 0;
            for (int ep = 0; ep < 6; ep++) {
                for (Batch b : t.batches(Scenario.TASK, 128, ep)) {
                    Minibatch mb = Minibatch.of(b);
                    try (NDManager sc = m.newSubManager()) {
                        NDArray x = mb.x(sc);
                        NDArray mask = mb.mask(sc, lay, 1);
                        NDArray oh = mb.oneHot(sc, lay);
                        try (GradientCollector gc = e.newGradientCollector()) {
                            gc.backward(Losses.crossEntropy(mlp.logits(x, 0, true), mask, oh));
                        }
                        opt.step(mlp.trainable(), 1e-3, 0, false, 1.0);
                    }
                    s++;
                    if (s % 13 == 0) {
                        System.out.printf("threads %d steps %d: %.1f ms/step%n", th, s, (System.nanoTime() - t0) / 1e6 / 13);
                        t0 = System.nanoTime();
                    }
                }
            }
        }
    }
}
