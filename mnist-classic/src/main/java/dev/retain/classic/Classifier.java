package dev.retain.classic;

import dev.retain.core.model.NamedParameter;

import ai.djl.ndarray.NDArray;

import java.util.List;

/**
 * A classifier over flattened 28x28 images, built from DJL blocks, whose output is one row of
 * {@link OutputLayout#total()} logits per image (all heads side by side; the trainer masks the
 * columns a scenario does not allow).
 */
public interface Classifier extends AutoCloseable {

    /** @return a short description for results.json, e.g. {@code mlp-400-400} */
    String name();

    /**
     * The logits of a batch.
     *
     * @param x {@code [batch, inputs]} images, on the model's device
     * @param task the task whose column to use (progressive networks); ignored by models with a
     *     single trunk, which may then see batches that mix tasks
     * @param training whether this forward pass is for training
     * @return {@code [batch, total outputs]}, attached to {@code x}'s manager
     */
    NDArray logits(NDArray x, int task, boolean training);

    /**
     * Called before training on a task (a progressive network adds a column and freezes the
     * earlier ones here).
     *
     * @param task the task about to be trained
     */
    default void startTask(int task) {}

    /** @return the parameters that training may change now (gradients attached) */
    List<NamedParameter> trainable();

    /** @return every parameter, trainable or frozen */
    List<NamedParameter> parameters();

    /** @return the number of scalar parameters (all columns, frozen or not) */
    default long parameterCount() {
        long n = 0;
        for (NamedParameter p : parameters()) {
            n += p.array().size();
        }
        return n;
    }

    @Override
    void close();
}
