package dev.retain.classic.data;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * One task of a benchmark: its train and test examples and how its digits are labelled in each
 * {@link Scenario}.
 *
 * <p>A task covers {@code classesPerTask} consecutive digits starting at {@code firstDigit}
 * (Split MNIST: 2 digits, {@code 2*id} and {@code 2*id+1}; Permuted and Rotated MNIST: all 10,
 * from 0). The <em>local</em> label is {@code digit - firstDigit}. Then:
 *
 * <table>
 *   <caption>labels and heads per scenario</caption>
 *   <tr><th>scenario</th><th>label</th><th>head</th><th>head width</th></tr>
 *   <tr><td>TASK</td><td>local</td><td>{@code id} (one head per task)</td><td>{@code classesPerTask}</td></tr>
 *   <tr><td>DOMAIN</td><td>local</td><td>0 (shared)</td><td>{@code classesPerTask}</td></tr>
 *   <tr><td>CLASS</td><td>{@code id * classesPerTask + local}</td><td>0 (shared)</td>
 *       <td>{@code numTasks * classesPerTask}</td></tr>
 * </table>
 *
 * <p>For Split MNIST the class-incremental label is the digit itself and the domain label is
 * {@code digit % 2}; for Permuted and Rotated MNIST the domain label is the digit and the class
 * label is {@code 10 * id + digit} (as in van de Ven &amp; Tolias' code).
 *
 * @param id position in the sequence, from 0
 * @param name short name, e.g. {@code 0/1}, {@code perm3}, {@code rot36}
 * @param numTasks tasks in the benchmark
 * @param classesPerTask digits in this task
 * @param firstDigit the lowest digit in this task
 * @param train training examples
 * @param test test examples
 */
public record Task(int id, String name, int numTasks, int classesPerTask, int firstDigit,
        Examples train, Examples test) {

    /** Checks the numbers agree. */
    public Task {
        if (id < 0 || id >= numTasks || classesPerTask <= 0 || firstDigit < 0
                || firstDigit + classesPerTask > Mnist.CLASSES) {
            throw new IllegalArgumentException("bad task " + id + "/" + numTasks + " digits "
                    + firstDigit + "+" + classesPerTask);
        }
    }

    /** @return the digits in this task, ascending */
    public int[] digits() {
        int[] d = new int[classesPerTask];
        for (int i = 0; i < d.length; i++) {
            d[i] = firstDigit + i;
        }
        return d;
    }

    /**
     * @param digit a digit
     * @return whether this task has it
     */
    public boolean hasDigit(int digit) {
        return digit >= firstDigit && digit < firstDigit + classesPerTask;
    }

    /**
     * @param scenario the scenario
     * @param digit one of this task's digits
     * @return its label in that scenario
     * @throws IllegalArgumentException when the digit is not in this task
     */
    public int label(Scenario scenario, int digit) {
        if (!hasDigit(digit)) {
            throw new IllegalArgumentException("digit " + digit + " is not in task " + name);
        }
        int local = digit - firstDigit;
        return scenario == Scenario.CLASS ? id * classesPerTask + local : local;
    }

    /**
     * @param scenario the scenario
     * @param examples this task's train or test examples
     * @return every example's label in that scenario
     */
    public int[] labels(Scenario scenario, Examples examples) {
        int[] y = new int[examples.size()];
        for (int k = 0; k < y.length; k++) {
            y[k] = label(scenario, examples.digit(k));
        }
        return y;
    }

    /**
     * @param scenario the scenario
     * @return the width of the output head: {@code classesPerTask}, or {@code numTasks *
     *     classesPerTask} for CLASS
     */
    public int numClasses(Scenario scenario) {
        return scenario == Scenario.CLASS ? numTasks * classesPerTask : classesPerTask;
    }

    /**
     * @param scenario the scenario
     * @return the labels this task uses, ascending (for CLASS: the outputs it "activates")
     */
    public int[] classes(Scenario scenario) {
        int[] c = new int[classesPerTask];
        for (int i = 0; i < c.length; i++) {
            c[i] = label(scenario, firstDigit + i);
        }
        return c;
    }

    /**
     * @param scenario the scenario
     * @return which output head this task uses: {@code id} for TASK, else 0
     */
    public int head(Scenario scenario) {
        return scenario == Scenario.TASK ? id : 0;
    }

    /**
     * @param scenario the scenario
     * @return how many output heads the model needs: {@code numTasks} for TASK, else 1
     */
    public int numHeads(Scenario scenario) {
        return scenario == Scenario.TASK ? numTasks : 1;
    }

    /**
     * One pass over this task's training examples in a seeded order ({@link
     * Examples#shuffledOrder(long)}), in batches of {@code batchSize} (the last may be smaller),
     * built lazily.
     *
     * @param scenario how to label
     * @param batchSize examples per batch, at least 1
     * @param seed the order's seed
     * @return the batches
     */
    public Iterable<TaskBatch> batches(Scenario scenario, int batchSize, long seed) {
        return batches(scenario, train, batchSize, train.shuffledOrder(seed));
    }

    /**
     * One pass over some of this task's examples in a given order.
     *
     * @param scenario how to label
     * @param examples {@link #train()} or {@link #test()}
     * @param batchSize examples per batch, at least 1
     * @param order positions in {@code examples}, in the order to visit them
     * @return the batches
     */
    public Iterable<TaskBatch> batches(Scenario scenario, Examples examples, int batchSize,
            int[] order) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size " + batchSize);
        }
        int[] ord = order.clone();
        int head = head(scenario);
        return () -> new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < ord.length;
            }

            @Override
            public TaskBatch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                int[] ks = Arrays.copyOfRange(ord, next, Math.min(ord.length, next + batchSize));
                next += ks.length;
                int[] y = new int[ks.length];
                for (int i = 0; i < ks.length; i++) {
                    y[i] = label(scenario, examples.digit(ks[i]));
                }
                return new TaskBatch(id, head, ks, examples.pixels(ks), y);
            }
        };
    }

    @Override
    public String toString() {
        return "Task[" + id + " " + name + ": train " + train.size() + ", test " + test.size()
                + ", " + train.transform() + "]";
    }
}
