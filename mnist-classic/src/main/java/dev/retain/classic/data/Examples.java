package dev.retain.classic.data;

import java.util.Arrays;
import java.util.Objects;
import java.util.Random;

/**
 * A task's examples: row indices into a shared {@link MnistImages} and the {@link PixelTransform}
 * applied when an image is read. Nothing is copied until asked for ({@link #image(int, float[],
 * int)}, {@link #pixels(int[])}); {@link #pixels()} materialises this set once, which costs
 * {@code size() * inputSize() * 4} bytes.
 */
public final class Examples {

    private final MnistImages split;
    private final int[] rows;
    private final PixelTransform transform;

    /**
     * @param split the data
     * @param rows which images of it, in this order (copied)
     * @param transform what to do to each image; its size must be the split's image size
     */
    public Examples(MnistImages split, int[] rows, PixelTransform transform) {
        this.split = Objects.requireNonNull(split, "split");
        this.transform = Objects.requireNonNull(transform, "transform");
        if (transform.size() != split.imageSize()) {
            throw new IllegalArgumentException("transform for " + transform.size()
                    + " pixels, images have " + split.imageSize());
        }
        this.rows = rows.clone();
        for (int r : this.rows) {
            if (r < 0 || r >= split.size()) {
                throw new IndexOutOfBoundsException("row " + r + " of " + split.size());
            }
        }
    }

    /** @return the number of examples */
    public int size() {
        return rows.length;
    }

    /** @return pixels per (transformed) image */
    public int inputSize() {
        return transform.size();
    }

    /** @return the underlying split */
    public MnistImages split() {
        return split;
    }

    /** @return the transform applied to every image */
    public PixelTransform transform() {
        return transform;
    }

    /**
     * @param k example position, {@code 0..size()-1}
     * @return its row in the split
     */
    public int row(int k) {
        return rows[k];
    }

    /** @return a copy of the rows in the split, in example order */
    public int[] rows() {
        return rows.clone();
    }

    /**
     * @param k example position
     * @return its digit (the split's label)
     */
    public int digit(int k) {
        return split.labels()[rows[k]];
    }

    /**
     * Writes example {@code k}'s transformed image.
     *
     * @param k example position
     * @param dst destination
     * @param off where it starts in {@code dst}
     */
    public void image(int k, float[] dst, int off) {
        transform.apply(split.pixels(), rows[k] * split.imageSize(), dst, off);
    }

    /**
     * @param k example position
     * @return a new array with example {@code k}'s transformed image
     */
    public float[] image(int k) {
        float[] out = new float[inputSize()];
        image(k, out, 0);
        return out;
    }

    /**
     * @param ks example positions
     * @return their transformed images, one after another ({@code ks.length * inputSize()})
     */
    public float[] pixels(int[] ks) {
        float[] out = new float[ks.length * inputSize()];
        for (int i = 0; i < ks.length; i++) {
            image(ks[i], out, i * inputSize());
        }
        return out;
    }

    /** @return all transformed images, one after another (a copy of this set) */
    public float[] pixels() {
        float[] out = new float[rows.length * inputSize()];
        for (int k = 0; k < rows.length; k++) {
            image(k, out, k * inputSize());
        }
        return out;
    }

    /** @return the digit of every example, in order */
    public int[] digits() {
        int[] d = new int[rows.length];
        for (int k = 0; k < rows.length; k++) {
            d[k] = digit(k);
        }
        return d;
    }

    /**
     * @param from first position, inclusive
     * @param to last position, exclusive
     * @return examples {@code from..to-1} with the same transform
     */
    public Examples range(int from, int to) {
        return new Examples(split, Arrays.copyOfRange(rows, from, to), transform);
    }

    /**
     * A seeded order of the positions, by Fisher-Yates with {@code java.util.Random(seed)}
     * (for {@code i} from {@code size()-1} down to 1 swap {@code i} with {@code nextInt(i+1)}).
     *
     * @param seed the seed
     * @return a permutation of {@code 0..size()-1}
     */
    public int[] shuffledOrder(long seed) {
        int[] o = new int[rows.length];
        for (int i = 0; i < o.length; i++) {
            o[i] = i;
        }
        Rows.shuffle(o, new Random(seed));
        return o;
    }

    @Override
    public String toString() {
        return "Examples[" + rows.length + " of " + split.source() + ", " + transform + "]";
    }
}
