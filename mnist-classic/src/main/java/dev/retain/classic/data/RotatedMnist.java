package dev.retain.classic.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Rotated MNIST as an online stream (in the spirit of Lopez-Paz &amp; Ranzato 2017's "MNIST
 * rotations"): {@code T} tasks, task {@code t} rotating every image by a fixed angle, by default
 * {@code t * 180 / T} degrees (0, 18, 36, ..., 162 for ten tasks), counter-clockwise about the
 * image centre with bilinear interpolation ({@link PixelTransform.Rotation}).
 *
 * <p>Training data is one pass: the training images are shuffled once with {@code
 * java.util.Random(seed)} (Fisher-Yates) and cut into {@code T} disjoint consecutive chunks
 * (sizes differ by at most one), or the first {@code examplesPerTask} of each chunk when that is
 * given; so no image is seen twice in the whole stream. Each task is tested on the whole test
 * split rotated by its angle. Feed it with {@link #stream(Scenario, int, long)} and small
 * batches.
 *
 * <p>Labels ({@link Task}) are as in {@link PermutedMnist}: the digit, 10-way, for task- (head
 * per task) and domain-incremental (shared head, the usual setting); {@code 10 * task + digit}
 * for class-incremental.
 */
public final class RotatedMnist implements Benchmark {

    /** Default number of tasks. */
    public static final int DEFAULT_TASKS = 10;

    private final double[] angles;
    private final List<Task> tasks;

    private RotatedMnist(double[] angles, List<Task> tasks) {
        this.angles = angles;
        this.tasks = tasks;
    }

    /**
     * {@code numTasks} tasks at {@link #evenAngles(int)}, all training images split among them.
     *
     * @param mnist the data
     * @param numTasks how many tasks
     * @param seed the seed of the split of training images among tasks
     * @return the benchmark
     */
    public static RotatedMnist of(Mnist mnist, int numTasks, long seed) {
        return of(mnist, evenAngles(numTasks), 0, seed);
    }

    /**
     * @param mnist the data
     * @param angles one angle per task, degrees counter-clockwise
     * @param examplesPerTask training examples per task; 0 for all of its chunk
     * @param seed the seed of the split of training images among tasks
     * @return the benchmark
     * @throws IllegalArgumentException when {@code examplesPerTask} is more than a chunk holds
     */
    public static RotatedMnist of(Mnist mnist, double[] angles, int examplesPerTask, long seed) {
        int numTasks = angles.length;
        if (numTasks < 1) {
            throw new IllegalArgumentException("need at least one angle");
        }
        MnistImages train = mnist.train();
        int n = train.size();
        int[] order = Rows.all(n);
        Rows.shuffle(order, new Random(seed));
        int[] testRows = Rows.all(mnist.test().size());
        List<Task> ts = new ArrayList<>();
        for (int t = 0; t < numTasks; t++) {
            int from = (int) ((long) t * n / numTasks);
            int to = (int) ((long) (t + 1) * n / numTasks);
            if (examplesPerTask > 0) {
                if (examplesPerTask > to - from) {
                    throw new IllegalArgumentException(examplesPerTask + " examples per task but "
                            + n + " training images make chunks of " + (to - from));
                }
                to = from + examplesPerTask;
            }
            int[] rows = Arrays.copyOfRange(order, from, to);
            PixelTransform rot = PixelTransform.rotation(angles[t], train.rows(), train.cols());
            ts.add(new Task(t, "rot" + format(angles[t]), numTasks, Mnist.CLASSES, 0,
                    new Examples(train, rows, rot),
                    new Examples(mnist.test(), testRows, rot)));
        }
        return new RotatedMnist(angles.clone(), List.copyOf(ts));
    }

    /**
     * @param numTasks how many
     * @return {@code t * 180 / numTasks} for {@code t = 0..numTasks-1}
     */
    public static double[] evenAngles(int numTasks) {
        double[] a = new double[numTasks];
        for (int t = 0; t < numTasks; t++) {
            a[t] = 180.0 * t / numTasks;
        }
        return a;
    }

    static String format(double deg) {
        if (deg == Math.rint(deg)) {
            return Long.toString((long) deg);
        }
        return String.format(Locale.ROOT, "%.1f", deg);
    }

    /** @return a copy of the angles, degrees counter-clockwise, one per task */
    public double[] angles() {
        return angles.clone();
    }

    @Override
    public String name() {
        return "rotated-mnist";
    }

    @Override
    public List<Task> tasks() {
        return tasks;
    }
}
