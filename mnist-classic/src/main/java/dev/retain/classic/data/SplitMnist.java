package dev.retain.classic.data;

import java.util.ArrayList;
import java.util.List;

/**
 * Split MNIST: five tasks of two digits each, {0,1}, {2,3}, {4,5}, {6,7}, {8,9}, in that order
 * (the fixed digit order of van de Ven &amp; Tolias 2019's figures; their code by default also
 * shuffles which digits go to which task per seed, which this does not). A task's examples are
 * all train / test images of its two digits, in file order.
 *
 * <p>Labels ({@link Task}): task-incremental {@code digit % 2} with a 2-way head per task
 * (head = task id); domain-incremental {@code digit % 2} with one shared 2-way head;
 * class-incremental the digit with one 10-way head.
 */
public final class SplitMnist implements Benchmark {

    /** Number of tasks. */
    public static final int TASKS = 5;

    private final List<Task> tasks;

    private SplitMnist(List<Task> tasks) {
        this.tasks = tasks;
    }

    /**
     * @param mnist the data
     * @return the five tasks
     */
    public static SplitMnist of(Mnist mnist) {
        List<Task> ts = new ArrayList<>();
        PixelTransform id = PixelTransform.identity(mnist.train().imageSize());
        for (int t = 0; t < TASKS; t++) {
            int lo = 2 * t;
            Examples train = new Examples(mnist.train(),
                    Rows.withDigits(mnist.train(), lo, lo + 2), id);
            Examples test = new Examples(mnist.test(),
                    Rows.withDigits(mnist.test(), lo, lo + 2), id);
            ts.add(new Task(t, lo + "/" + (lo + 1), TASKS, 2, lo, train, test));
        }
        return new SplitMnist(List.copyOf(ts));
    }

    @Override
    public String name() {
        return "split-mnist";
    }

    @Override
    public List<Task> tasks() {
        return tasks;
    }
}
