package dev.retain.classic;

import dev.retain.core.model.NamedParameter;
import dev.retain.classic.data.TaskBatch;
import dev.retain.classic.data.Task;
import dev.retain.train.optim.AdamW;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The article's MAML-style meta-continual update, done properly: online (each example seen
 * once), for each stream batch of new examples
 *
 * <pre>
 *   support = the first half of the new examples
 *   query   = the other half + replay-batch examples drawn from the reservoir memory
 *   theta'  = theta - alpha * grad L_support(theta)              (alpha = maml-inner-lr)
 *   theta  <- Adam step on grad_theta L_query(theta')           (second-order: through theta')
 *   offer the new examples to the memory
 * </pre>
 *
 * The query loss is taken at the adapted weights on <i>held-out</i> new examples and on old ones
 * from the memory, so the meta-gradient rewards an update that generalises within the task and
 * does not hurt earlier tasks (in the spirit of La-MAML/MER); the article's sketch used the same
 * batch for both losses and no memory. The inner gradient is {@link Mlp#lossGradients} (written
 * as tensor operations) so that autograd differentiates through it: the full second-order
 * MAML gradient, not the first-order approximation.
 */
final class MamlLearner implements Learner {

    private final ClassicContext ctx;
    private final Mlp mlp;
    private final ReplayMemory memory;
    private final AdamW adam;

    MamlLearner(ClassicContext ctx, Mlp mlp, ReplayMemory memory) {
        this.ctx = ctx;
        this.mlp = mlp;
        this.memory = memory;
        this.adam = new AdamW(ctx.manager, 0.9, 0.999, 1e-8);
    }

    @Override
    public void learnTask(Task task) {
        ClassicConfig c = ctx.config;
        Random rng = ctx.rng("maml", task.id());
        int replay = c.replayBatchFor(Strategy.MAML);
        for (TaskBatch b : task.batches(c.scenario(), c.streamBatch(),
                ctx.rng("order", task.id()).nextLong())) {
            Minibatch fresh = Minibatch.of(b);
            ctx.newExamples += fresh.size();
            if (fresh.size() >= 2) {
                int half = fresh.size() / 2;
                Minibatch support = fresh.slice(0, half);
                Minibatch query = fresh.slice(half, fresh.size());
                List<ExampleRef> refs = memory.sample(replay, rng);
                ctx.replayExamples += refs.size();
                if (!refs.isEmpty()) {
                    query = query.concat(ctx.minibatch(refs));
                }
                metaStep(support, query);
            }
            for (int k : b.examples()) {
                memory.offer(task, k, rng);
            }
        }
    }

    /**
     * One meta update: the inner step on the support set, the query loss at the adapted
     * weights, its gradient (second-order) into the parameters, an Adam step.
     *
     * @param support the support examples
     * @param query the query examples
     */
    void metaStep(Minibatch support, Minibatch query) {
        List<NamedParameter> params = mlp.trainable();
        try (NDManager scope = ctx.manager.newSubManager()) {
            List<NDArray> w = new ArrayList<>(params.size());
            params.forEach(p -> w.add(p.array()));
            try (GradientCollector gc = ctx.engine.newGradientCollector()) {
                List<NDArray> g = mlp.lossGradients(support.x(scope),
                        support.mask(scope, ctx.layout, ctx.seenTasks),
                        support.oneHot(scope, ctx.layout), w);
                List<NDArray> fast = new ArrayList<>(w.size());
                for (int i = 0; i < w.size(); i++) {
                    // g is in scope, so the result is too (w's manager is the model's)
                    fast.add(g.get(i).mul((float) -ctx.config.mamlInnerLr()).add(w.get(i)));
                }
                NDArray logits = mlp.logits(query.x(scope), fast);
                gc.backward(Losses.crossEntropy(logits,
                        query.mask(scope, ctx.layout, ctx.seenTasks),
                        query.oneHot(scope, ctx.layout)));
            }
            adam.step(params, ctx.config.learningRate(), 0, false, 1.0);
        }
        ctx.steps++;
    }

    @Override
    public void close() {
        memory.close();
        adam.close();
    }
}
