package dev.retain.classic.data;

/**
 * A mini-batch of one task, labelled for one scenario.
 *
 * @param task the task's id
 * @param head the output head to use ({@link Task#head(Scenario)}): the task id in
 *     task-incremental learning, 0 otherwise
 * @param examples the examples' positions in the task's {@link Examples}
 * @param pixels {@code size() * inputSize} transformed pixels, example after example
 * @param labels one label per example, in the scenario's label space
 */
public record TaskBatch(int task, int head, int[] examples, float[] pixels, int[] labels) {

    /** @return examples in the batch */
    public int size() {
        return labels.length;
    }

    /** @return pixels per example */
    public int inputSize() {
        return labels.length == 0 ? 0 : pixels.length / labels.length;
    }
}
