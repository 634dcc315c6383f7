package dev.retain.classic.data;

import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/** A sequence of tasks over MNIST. */
public interface Benchmark {

    /** @return short name: {@code split-mnist}, {@code permuted-mnist}, {@code rotated-mnist} */
    String name();

    /** @return the tasks in training order */
    List<Task> tasks();

    /** @return the number of tasks */
    default int numTasks() {
        return tasks().size();
    }

    /**
     * @param id task id
     * @return that task
     */
    default Task task(int id) {
        return tasks().get(id);
    }

    /** @return pixels per input image (784) */
    default int inputSize() {
        return tasks().get(0).train().inputSize();
    }

    /**
     * @param scenario the scenario
     * @return the width of each output head in that scenario
     */
    default int numClasses(Scenario scenario) {
        return tasks().get(0).numClasses(scenario);
    }

    /**
     * @param scenario the scenario
     * @return how many output heads the model needs in that scenario
     */
    default int numHeads(Scenario scenario) {
        return tasks().get(0).numHeads(scenario);
    }

    /**
     * The whole training stream, one pass: task 0's batches, then task 1's, and so on; task
     * {@code t}'s examples are in the order {@link Task#batches(Scenario, int, long)} gives for
     * seed {@code seed + t}.
     *
     * @param scenario how to label
     * @param batchSize examples per batch
     * @param seed base seed of the per-task orders
     * @return the batches, built lazily
     */
    default Iterable<TaskBatch> stream(Scenario scenario, int batchSize, long seed) {
        List<Task> ts = tasks();
        return () -> new Iterator<>() {
            private int t;
            private Iterator<TaskBatch> cur = null;

            @Override
            public boolean hasNext() {
                while ((cur == null || !cur.hasNext()) && t < ts.size()) {
                    cur = ts.get(t).batches(scenario, batchSize, seed + t).iterator();
                    t++;
                }
                return cur != null && cur.hasNext();
            }

            @Override
            public TaskBatch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return cur.next();
            }
        };
    }
}
