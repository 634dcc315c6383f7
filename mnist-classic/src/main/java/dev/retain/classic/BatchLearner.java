package dev.retain.classic;

import dev.retain.core.model.NamedParameter;
import dev.retain.classic.data.TaskBatch;
import dev.retain.classic.data.Task;
import dev.retain.train.optim.AdamW;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;

/**
 * The plain mini-batch loop with Adam (the published setups' optimizer; the shared {@link AdamW}
 * with weight decay 0 is Adam): {@code epochs} passes over the task's training examples in a
 * seeded order, one forward pass per batch of {@code batch-size} examples, the masked
 * cross-entropy, backward, the plugins' extra gradients, an Adam step. Every step runs in its own
 * sub-manager, so memory stays flat.
 *
 * <p>Naive fine-tuning is this loop alone; EWC, online EWC and replay are presets of {@link
 * ClassicPlugin}s; progressive networks are this loop on a {@link ProgressiveNet}; joint training
 * is this loop over the union of the tasks seen so far.
 */
final class BatchLearner implements Learner {

    private final ClassicContext ctx;
    private final List<ClassicPlugin> plugins;
    private final boolean joint;
    private final AdamW adam;

    BatchLearner(ClassicContext ctx, List<ClassicPlugin> plugins, boolean joint) {
        this.ctx = ctx;
        this.plugins = List.copyOf(plugins);
        this.joint = joint;
        this.adam = new AdamW(ctx.manager, 0.9, 0.999, 1e-8);
    }

    /** @return the plugins, in order */
    List<ClassicPlugin> plugins() {
        return plugins;
    }

    @Override
    public void learnTask(Task task) {
        ClassicConfig c = ctx.config;
        for (int epoch = 0; epoch < c.epochs(); epoch++) {
            long index = (long) task.id() * 10_000 + epoch;
            Random rng = ctx.rng("step", index);
            if (joint) {
                for (Minibatch mb : jointBatches(task.id(), index)) {
                    step(task.id(), mb, rng);
                }
            } else {
                for (TaskBatch b : task.batches(c.scenario(), c.batchSize(),
                        ctx.rng("order", index).nextLong())) {
                    step(task.id(), Minibatch.of(b), rng);
                }
            }
        }
    }

    /**
     * The examples of tasks 0..t together, shuffled, in batches built one at a time (the union
     * of ten Permuted MNIST tasks would be 250 MB of pixels at once).
     */
    private Iterable<Minibatch> jointBatches(int t, long index) {
        List<ExampleRef> all = new ArrayList<>();
        for (int j = 0; j <= t; j++) {
            int n = ctx.benchmark.task(j).train().size();
            for (int k = 0; k < n; k++) {
                all.add(new ExampleRef(j, k));
            }
        }
        Collections.shuffle(all, ctx.rng("order", index));
        int bs = ctx.config.batchSize();
        return () -> new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < all.size();
            }

            @Override
            public Minibatch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                int to = Math.min(all.size(), next + bs);
                Minibatch mb = ctx.minibatch(all.subList(next, to));
                next = to;
                return mb;
            }
        };
    }

    /**
     * One optimizer step on a batch.
     *
     * @param task the task being learned
     * @param batch its new examples
     * @param rng this epoch's random source (replay draws)
     */
    void step(int task, Minibatch batch, Random rng) {
        ctx.newExamples += batch.size();
        Minibatch full = batch;
        for (ClassicPlugin p : plugins) {
            full = p.extend(full, rng);
        }
        List<NamedParameter> params = ctx.model.trainable();
        try (NDManager scope = ctx.manager.newSubManager()) {
            NDArray x = full.x(scope);
            NDArray mask = full.mask(scope, ctx.layout, ctx.seenTasks);
            NDArray oneHot = full.oneHot(scope, ctx.layout);
            try (GradientCollector gc = ctx.engine.newGradientCollector()) {
                NDArray logits = ctx.model.logits(x, task, true);
                gc.backward(Losses.crossEntropy(logits, mask, oneHot));
            }
            for (ClassicPlugin p : plugins) {
                p.afterBackward(params, scope);
            }
            adam.step(params, ctx.config.learningRate(), 0, false, 1.0);
        }
        ctx.steps++;
    }

    @Override
    public void afterTask(Task task) {
        for (ClassicPlugin p : plugins) {
            p.afterTask(task);
        }
    }

    @Override
    public void close() {
        plugins.forEach(ClassicPlugin::close);
        adam.close();
    }
}
