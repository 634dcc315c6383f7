package dev.retain.classic.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Permuted MNIST: every task is all of MNIST (train and test) with its own fixed permutation of
 * the 784 pixels, applied when an image is read ({@code out[i] = in[perm[i]]}).
 *
 * <p>Permutations come from one {@code java.util.Random(seed)}: for task 0, 1, ... in turn,
 * start from the identity and run Fisher-Yates (for {@code i} from 783 down to 1 swap {@code i}
 * with {@code nextInt(i + 1)}). The same seed gives the same permutations.
 *
 * <p><b>Task 0 is permuted too</b> by default, as in van de Ven &amp; Tolias' code (their
 * {@code exception} flag, for visualisation, leaves it unpermuted). With {@code identityFirst}
 * task 0 uses the identity instead; its permutation is still drawn, so tasks 1.. are the same
 * either way. Differences from their code: they permute a 32x32 zero-padded image, this permutes
 * the 28x28 one.
 *
 * <p>Labels ({@link Task}): task-incremental the digit with a 10-way head per task;
 * domain-incremental the digit with one shared 10-way head (the classic Permuted MNIST);
 * class-incremental {@code 10 * task + digit} with one {@code 10 * tasks}-way head.
 */
public final class PermutedMnist implements Benchmark {

    /** Default number of tasks. */
    public static final int DEFAULT_TASKS = 10;

    private final long seed;
    private final List<Task> tasks;

    private PermutedMnist(long seed, List<Task> tasks) {
        this.seed = seed;
        this.tasks = tasks;
    }

    /**
     * Ten tasks, every one permuted.
     *
     * @param mnist the data
     * @param seed the permutations' seed
     * @return the benchmark
     */
    public static PermutedMnist of(Mnist mnist, long seed) {
        return of(mnist, DEFAULT_TASKS, seed, false);
    }

    /**
     * @param mnist the data
     * @param numTasks how many tasks, at least 1
     * @param seed the permutations' seed
     * @param identityFirst whether task 0 keeps the pixels in place
     * @return the benchmark
     */
    public static PermutedMnist of(Mnist mnist, int numTasks, long seed, boolean identityFirst) {
        int size = mnist.train().imageSize();
        int[][] perms = permutations(numTasks, size, seed, identityFirst);
        int[] trainRows = Rows.all(mnist.train().size());
        int[] testRows = Rows.all(mnist.test().size());
        List<Task> ts = new ArrayList<>();
        for (int t = 0; t < numTasks; t++) {
            PixelTransform p = PixelTransform.permutation(perms[t]);
            ts.add(new Task(t, "perm" + t, numTasks, Mnist.CLASSES, 0,
                    new Examples(mnist.train(), trainRows, p),
                    new Examples(mnist.test(), testRows, p)));
        }
        return new PermutedMnist(seed, List.copyOf(ts));
    }

    /**
     * The permutations, as described in the class comment.
     *
     * @param numTasks how many
     * @param size pixels per image
     * @param seed the seed
     * @param identityFirst whether the first is replaced by the identity (after being drawn)
     * @return {@code numTasks} permutations of {@code 0..size-1}
     */
    public static int[][] permutations(int numTasks, int size, long seed, boolean identityFirst) {
        if (numTasks < 1) {
            throw new IllegalArgumentException("need at least one task, got " + numTasks);
        }
        Random rnd = new Random(seed);
        int[][] perms = new int[numTasks][];
        for (int t = 0; t < numTasks; t++) {
            int[] p = Rows.all(size);
            Rows.shuffle(p, rnd);
            perms[t] = p;
        }
        if (identityFirst) {
            perms[0] = Rows.all(size);
        }
        return perms;
    }

    /**
     * @param task a task id
     * @return a copy of its permutation
     */
    public int[] permutation(int task) {
        return ((PixelTransform.Permutation) tasks.get(task).train().transform()).perm();
    }

    /** @return the seed the permutations came from */
    public long seed() {
        return seed;
    }

    @Override
    public String name() {
        return "permuted-mnist";
    }

    @Override
    public List<Task> tasks() {
        return tasks;
    }
}
