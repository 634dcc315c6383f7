package dev.retain.classic;

import dev.retain.classic.data.TaskBatch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Arrays;

/**
 * Examples ready for one forward pass, possibly from several tasks (new examples and replayed
 * ones), with everything the masked loss needs.
 *
 * @param tasks each example's task
 * @param labels each example's label in the scenario's label space
 * @param pixels {@code size() * inputSize} pixels, example after example
 */
public record Minibatch(int[] tasks, int[] labels, float[] pixels) {

    /** Masked-out logits get this added: exp() of it is 0, so they get no probability. */
    static final float MASKED = -1e9f;

    /**
     * @param b a batch of one task
     * @return it as a minibatch
     */
    public static Minibatch of(TaskBatch b) {
        int[] t = new int[b.size()];
        Arrays.fill(t, b.task());
        return new Minibatch(t, b.labels(), b.pixels());
    }

    /** @return examples in the batch */
    public int size() {
        return labels.length;
    }

    /**
     * @param other more examples
     * @return this batch followed by {@code other}
     */
    public Minibatch concat(Minibatch other) {
        if (other.size() == 0) {
            return this;
        }
        int n = size();
        int[] t = Arrays.copyOf(tasks, n + other.size());
        System.arraycopy(other.tasks, 0, t, n, other.size());
        int[] y = Arrays.copyOf(labels, n + other.size());
        System.arraycopy(other.labels, 0, y, n, other.size());
        float[] px = Arrays.copyOf(pixels, pixels.length + other.pixels.length);
        System.arraycopy(other.pixels, 0, px, pixels.length, other.pixels.length);
        return new Minibatch(t, y, px);
    }

    /**
     * @param from first example, inclusive
     * @param to last example, exclusive
     * @return examples {@code from..to-1}
     */
    public Minibatch slice(int from, int to) {
        int d = size() == 0 ? 0 : pixels.length / size();
        return new Minibatch(Arrays.copyOfRange(tasks, from, to),
                Arrays.copyOfRange(labels, from, to),
                Arrays.copyOfRange(pixels, from * d, to * d));
    }

    /**
     * @param idx example positions
     * @return those examples, in that order
     */
    public Minibatch select(int[] idx) {
        int d = size() == 0 ? 0 : pixels.length / size();
        int[] t = new int[idx.length];
        int[] y = new int[idx.length];
        float[] px = new float[idx.length * d];
        for (int i = 0; i < idx.length; i++) {
            t[i] = tasks[idx[i]];
            y[i] = labels[idx[i]];
            System.arraycopy(pixels, idx[i] * d, px, i * d, d);
        }
        return new Minibatch(t, y, px);
    }

    /**
     * @param m manager of the result
     * @return the images, {@code [size, inputSize]}
     */
    public NDArray x(NDManager m) {
        int n = size();
        return m.create(pixels, new Shape(n, pixels.length / n));
    }

    /**
     * The additive mask: 0 where a column competes for the example, {@link #MASKED} elsewhere.
     *
     * @param m manager of the result
     * @param layout the outputs
     * @param seenTasks tasks trained so far, current one included (class-IL's active classes)
     * @return {@code [size, layout.total()]}
     */
    public NDArray mask(NDManager m, OutputLayout layout, int seenTasks) {
        int n = size();
        int w = layout.total();
        float[] v = new float[n * w];
        Arrays.fill(v, MASKED);
        for (int i = 0; i < n; i++) {
            int from = layout.from(tasks[i]);
            int to = layout.to(tasks[i], seenTasks);
            Arrays.fill(v, i * w + from, i * w + to, 0f);
        }
        return m.create(v, new Shape(n, w));
    }

    /**
     * @param layout the outputs
     * @return each example's target column
     */
    public int[] targets(OutputLayout layout) {
        int[] c = new int[size()];
        for (int i = 0; i < c.length; i++) {
            c[i] = layout.column(tasks[i], labels[i]);
        }
        return c;
    }

    /**
     * @param m manager of the result
     * @param layout the outputs
     * @return one-hot targets, {@code [size, layout.total()]}
     */
    public NDArray oneHot(NDManager m, OutputLayout layout) {
        int n = size();
        int w = layout.total();
        float[] v = new float[n * w];
        int[] c = targets(layout);
        for (int i = 0; i < n; i++) {
            v[i * w + c[i]] = 1f;
        }
        return m.create(v, new Shape(n, w));
    }
}
