package dev.retain.classic;

/**
 * One training example, by task and position in that task's training set: what the replay
 * memory stores (the pixels stay in the shared MNIST arrays).
 *
 * @param task the task id
 * @param example the position in the task's {@link dev.retain.classic.data.Task#train()}
 */
public record ExampleRef(int task, int example) {}
