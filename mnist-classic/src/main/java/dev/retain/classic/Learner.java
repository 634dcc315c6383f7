package dev.retain.classic;

import dev.retain.classic.data.Task;

/** How a strategy trains on one task of the sequence. */
interface Learner extends AutoCloseable {

    /**
     * Trains on a task (its model column, if any, already started).
     *
     * @param task the task
     */
    void learnTask(Task task);

    /**
     * Called after {@link #learnTask}, before the evaluation of the stage.
     *
     * @param task the task just learned
     */
    default void afterTask(Task task) {}

    @Override
    default void close() {}
}
