package dev.retain.classic;

import dev.retain.core.model.NamedParameter;
import dev.retain.classic.data.Task;
import dev.retain.train.ewc.Fisher;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The diagonal Fisher of a classifier over examples of one task, through the shared {@link
 * Fisher} estimator (the same code as the language-model trainer's). A unit is <b>one example</b>
 * (the per-example Fisher, as in Kirkpatrick et al. and van de Ven &amp; Tolias' code), its loss
 * the masked cross-entropy of that example with the target either drawn from the model's own
 * predictive distribution over the allowed outputs ({@code sampled}: the true Fisher) or its label
 * ({@code empirical}):
 *
 * <pre>   F_i = (1/N) sum_n ( d/dtheta_i  -log p(y_n | x_n) )^2 </pre>
 */
final class ClassicFisher {

    private ClassicFisher() {}

    /**
     * Estimates the Fisher diagonal.
     *
     * @param ctx the run
     * @param task the task just finished
     * @param params the parameters to estimate it for (zero gradients on entry)
     * @param owner manager of the result
     * @return parameter name to its Fisher diagonal
     */
    static Map<String, NDArray> estimate(ClassicContext ctx, Task task,
            List<NamedParameter> params, NDManager owner) {
        ClassicConfig c = ctx.config;
        int n = Math.min(c.fisherSamples(), task.train().size());
        Random rng = ctx.rng("fisher", task.id());
        int[] order = task.train().shuffledOrder(rng.nextLong());
        boolean sampled = c.fisherMode().equals("sampled");
        // Fisher.estimate squares each unit's gradient with g.square(), which DJL attaches to
        // the gradient's manager, i.e. the parameters' manager, where it stays until the model
        // is closed (200 units x 478k parameters = 380 MB per task). Until that is fixed there,
        // close what the estimate left on the parameters' managers.
        Set<NDManager> paramManagers = Collections.newSetFromMap(new IdentityHashMap<>());
        params.forEach(p -> paramManagers.add(p.array().getManager()));
        Set<NDArray> before = Collections.newSetFromMap(new IdentityHashMap<>());
        paramManagers.forEach(m -> before.addAll(m.getManagedArrays()));
        Map<String, NDArray> fisher = Fisher.estimate(params, n, (u, scope) -> {
            Minibatch one = ctx.minibatch(List.of(new ExampleRef(task.id(), order[u])));
            NDArray mask = one.mask(scope, ctx.layout, ctx.seenTasks);
            NDArray logits = ctx.model.logits(one.x(scope), task.id(), true);
            if (sampled) {
                one = new Minibatch(one.tasks(), new int[] {draw(logits, mask, ctx.layout,
                        task.id(), rng)}, one.pixels());
            }
            return Losses.crossEntropy(logits, mask, one.oneHot(scope, ctx.layout));
        }, owner);
        for (NDManager m : paramManagers) {
            for (NDArray a : m.getManagedArrays()) {
                if (!before.contains(a)) {
                    a.close();
                }
            }
        }
        return fisher;
    }

    /** Draws a label from softmax(logits + mask), as a label of the task's label space. */
    private static int draw(NDArray logits, NDArray mask, OutputLayout layout, int task,
            Random rng) {
        float[] p = logits.stopGradient().add(mask).softmax(1).toFloatArray();
        double u = rng.nextDouble();
        double acc = 0;
        int col = p.length - 1;
        for (int i = 0; i < p.length; i++) {
            acc += p[i];
            if (u < acc) {
                col = i;
                break;
            }
        }
        // the masked columns have probability 0, so col is an allowed one
        return col - layout.from(task);
    }
}
