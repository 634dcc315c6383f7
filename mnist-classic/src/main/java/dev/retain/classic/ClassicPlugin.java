package dev.retain.classic;

import dev.retain.core.model.NamedParameter;
import dev.retain.classic.data.Task;

import ai.djl.ndarray.NDManager;

import java.util.List;
import java.util.Random;

/**
 * What a strategy adds to the plain mini-batch loop of {@link BatchLearner}, through typed points:
 * more examples in a batch (replay), an extra gradient after the backward pass (EWC), and work
 * after each task (consolidating a Fisher, filling a memory). Every hook is a no-op by default.
 */
interface ClassicPlugin extends AutoCloseable {

    /**
     * @param batch the new examples of this step
     * @param rng this step's random source
     * @return the examples to train on (e.g. with replayed ones appended)
     */
    default Minibatch extend(Minibatch batch, Random rng) {
        return batch;
    }

    /**
     * Called after the loss's backward pass, before the optimizer step.
     *
     * @param params the trainable parameters (with gradients)
     * @param scope this step's manager
     * @return the value of any penalty added (for logs)
     */
    default double afterBackward(List<NamedParameter> params, NDManager scope) {
        return 0;
    }

    /**
     * Called when a task's training is finished.
     *
     * @param task the task
     */
    default void afterTask(Task task) {}

    @Override
    default void close() {}
}
