package dev.retain.classic.data;

import java.util.Objects;

/**
 * One MNIST split (train or test) in memory: {@code size()} grey images of {@code rows x cols}
 * pixels, row-major, each pixel in [0, 1] (the IDX byte / 255), stored in one flat array, and
 * one label (0..9) per image.
 *
 * <p>The arrays are shared, not copied: callers must not modify them.
 *
 * @param source where it was read from, for messages
 * @param rows image height (28 for MNIST)
 * @param cols image width (28 for MNIST)
 * @param pixels {@code size() * rows * cols} values; image {@code i} starts at {@code i * imageSize()}
 * @param labels one digit per image
 */
public record MnistImages(String source, int rows, int cols, float[] pixels, int[] labels) {

    /** Checks the shapes agree. */
    public MnistImages {
        Objects.requireNonNull(pixels, "pixels");
        Objects.requireNonNull(labels, "labels");
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("bad image size " + rows + "x" + cols);
        }
        if ((long) labels.length * rows * cols != pixels.length) {
            throw new IllegalArgumentException(labels.length + " labels but " + pixels.length
                    + " pixels for " + rows + "x" + cols + " images");
        }
    }

    /** @return the number of images */
    public int size() {
        return labels.length;
    }

    /** @return pixels per image, {@code rows * cols} */
    public int imageSize() {
        return rows * cols;
    }

    /**
     * @param i image index
     * @return its label
     */
    public int label(int i) {
        return labels[i];
    }

    /**
     * @param i image index
     * @param p pixel index, {@code row * cols + col}
     * @return the pixel's value in [0, 1]
     */
    public float pixel(int i, int p) {
        return pixels[i * imageSize() + p];
    }

    /**
     * @param i image index
     * @return a copy of the image's pixels
     */
    public float[] image(int i) {
        float[] out = new float[imageSize()];
        System.arraycopy(pixels, i * imageSize(), out, 0, out.length);
        return out;
    }

    /**
     * @param numClasses how many labels to count (10 for MNIST)
     * @return images per label {@code 0..numClasses-1}
     */
    public int[] countPerLabel(int numClasses) {
        int[] c = new int[numClasses];
        for (int y : labels) {
            c[y]++;
        }
        return c;
    }

    @Override
    public String toString() {
        return "MnistImages[" + source + ": " + size() + " images " + rows + "x" + cols + "]";
    }
}
