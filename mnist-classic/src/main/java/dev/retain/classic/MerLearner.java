package dev.retain.classic;

import dev.retain.core.model.NamedParameter;
import dev.retain.classic.data.TaskBatch;
import dev.retain.classic.data.Task;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Meta-experience replay (Riemer et al. 2019, "Learning to learn without forgetting by maximizing
 * transfer and minimizing interference", Algorithm 1), online: every training example is seen
 * once, in stream batches of {@code stream-batch} new examples. For each stream batch:
 *
 * <pre>
 *   theta_A0 = theta
 *   for i = 1..s  (s = mer-steps):
 *       B_i = the new examples + replay-batch examples drawn from the memory, in random order
 *       theta_W0 = theta
 *       split B_i into mer-chunks parts; one plain SGD step (mer-lr) on each part in turn
 *       theta = theta_W0 + beta * (theta - theta_W0)          (within-batch Reptile)
 *   theta = theta_A0 + gamma * (theta - theta_A0)             (across-batch Reptile)
 *   offer the new examples to the reservoir memory
 * </pre>
 *
 * <p>Riemer et al. take one SGD step per <i>example</i> of {@code B_i}; one step per part of
 * {@code B_i} (with {@code mer-chunks = |B_i|} it is theirs) keeps a run to seconds. Reptile is
 * first-order by construction: the meta-gradient it follows is the sum of the inner steps'
 * gradients plus their pairwise inner products' gradients (alignment between examples), with no
 * second derivative taken; see docs/CLASSIC.md.
 */
final class MerLearner implements Learner {

    private final ClassicContext ctx;
    private final ReplayMemory memory;

    MerLearner(ClassicContext ctx, ReplayMemory memory) {
        this.ctx = ctx;
        this.memory = memory;
    }

    /** @return the reservoir memory */
    ReplayMemory memory() {
        return memory;
    }

    @Override
    public void learnTask(Task task) {
        ClassicConfig c = ctx.config;
        Random rng = ctx.rng("mer", task.id());
        int replay = c.replayBatchFor(Strategy.MER);
        for (TaskBatch b : task.batches(c.scenario(), c.streamBatch(),
                ctx.rng("order", task.id()).nextLong())) {
            Minibatch fresh = Minibatch.of(b);
            ctx.newExamples += fresh.size();
            List<NamedParameter> params = ctx.model.trainable();
            try (NDManager hold = ctx.manager.newSubManager()) {
                List<NDArray> before = copy(params, hold);
                for (int i = 0; i < c.merSteps(); i++) {
                    List<ExampleRef> refs = memory.sample(replay, rng);
                    ctx.replayExamples += refs.size();
                    Minibatch all = refs.isEmpty() ? fresh : fresh.concat(ctx.minibatch(refs));
                    all = all.select(permutation(all.size(), rng));
                    List<NDArray> w0 = copy(params, hold);
                    int parts = Math.min(c.merChunks(), all.size());
                    for (int p = 0; p < parts; p++) {
                        int from = (int) ((long) p * all.size() / parts);
                        int to = (int) ((long) (p + 1) * all.size() / parts);
                        sgdStep(task.id(), all.slice(from, to), params);
                    }
                    interpolate(params, w0, c.merBeta());
                    w0.forEach(NDArray::close);
                }
                interpolate(params, before, c.merGamma());
            }
            for (int k : b.examples()) {
                memory.offer(task, k, rng);
            }
        }
    }

    private void sgdStep(int task, Minibatch mb, List<NamedParameter> params) {
        try (NDManager scope = ctx.manager.newSubManager()) {
            NDArray x = mb.x(scope);
            NDArray mask = mb.mask(scope, ctx.layout, ctx.seenTasks);
            NDArray oneHot = mb.oneHot(scope, ctx.layout);
            try (GradientCollector gc = ctx.engine.newGradientCollector()) {
                gc.backward(Losses.crossEntropy(ctx.model.logits(x, task, true), mask, oneHot));
            }
            for (NamedParameter p : params) {
                PtNDArray w = (PtNDArray) p.array();
                try (PtNDArray g = w.getGradient()) {
                    JniUtils.sgdUpdate(w, g, null, (float) ctx.config.merLr(), 0f, 1f, -1f, 0f);
                }
                JniUtils.zeroGrad(w);
            }
        }
        ctx.steps++;
    }

    /** {@code theta = from + rate * (theta - from)}, in place. */
    private static void interpolate(List<NamedParameter> params, List<NDArray> from,
            double rate) {
        if (rate == 1.0) {
            return;
        }
        for (int i = 0; i < params.size(); i++) {
            params.get(i).array().subi(from.get(i)).muli((float) rate).addi(from.get(i));
        }
    }

    private static List<NDArray> copy(List<NamedParameter> params, NDManager m) {
        List<NDArray> out = new ArrayList<>(params.size());
        for (NamedParameter p : params) {
            NDArray c = p.array().duplicate();
            c.attach(m);
            out.add(c);
        }
        return out;
    }

    private static int[] permutation(int n, Random rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    @Override
    public void close() {
        memory.close();
    }
}
