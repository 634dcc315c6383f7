package dev.retain.classic.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** The IDX reader and the committed {@code datasets/mnist} subset. */
class IdxTest {

    static final int[] TRAIN_PER_DIGIT = {801, 902, 793, 826, 784, 690, 811, 856, 755, 782};
    static final int[] TEST_PER_DIGIT = {200, 225, 198, 206, 196, 173, 203, 214, 189, 196};

    static Mnist mnist;

    @TempDir Path tmp;

    @BeforeAll
    static void load() {
        mnist = Mnist.loadDefault();
    }

    @Test
    void committedSubsetHasTheDocumentedSplit() {
        assertEquals(8000, mnist.train().size());
        assertEquals(2000, mnist.test().size());
        assertArrayEquals(TRAIN_PER_DIGIT, mnist.train().countPerLabel(10));
        assertArrayEquals(TEST_PER_DIGIT, mnist.test().countPerLabel(10));
        assertEquals(28, mnist.train().rows());
        assertEquals(28, mnist.test().cols());
        assertEquals(8000 * 784, mnist.train().pixels().length);
        // the order build_mnist.py wrote: interleaved, not sorted by class
        assertArrayEquals(new int[] {5, 8, 5, 8, 4, 1, 5, 0, 9, 2},
                Arrays.copyOf(mnist.train().labels(), 10));
        assertArrayEquals(new int[] {5, 3, 3, 9, 4, 3, 2, 0, 5, 7},
                Arrays.copyOf(mnist.test().labels(), 10));
    }

    @Test
    void pixelsAreBytesOver255() {
        float min = 1;
        float max = 0;
        for (float v : mnist.train().pixels()) {
            min = Math.min(min, v);
            max = Math.max(max, v);
            float b = v * 255f;
            assertEquals(Math.round(b), b, 1e-3f);
        }
        assertEquals(0f, min);
        assertEquals(1f, max);
    }

    @Test
    void gzippedAndPlainReadTheSame() throws IOException {
        byte[] raw = IdxFiles.images(2, 2, 3, new byte[] {0, 1, 2, 3, 4, (byte) 255,
            10, 20, 30, 40, 50, (byte) 128});
        Path plain = IdxFiles.write(tmp.resolve("a-images-idx3-ubyte"), raw);
        Path gz = IdxFiles.write(tmp.resolve("b"), IdxFiles.gzip(raw));   // no .gz suffix
        Idx.Images a = Idx.readImages(plain);
        Idx.Images b = Idx.readImages(gz);
        assertEquals(2, a.count());
        assertEquals(2, a.rows());
        assertEquals(3, a.cols());
        assertArrayEquals(a.pixels(), b.pixels());
        assertEquals(1f, a.pixels()[5]);
        assertEquals(128 / 255f, a.pixels()[11]);
    }

    @Test
    void wrongMagicIsAUserError() throws IOException {
        Path labels = IdxFiles.write(tmp.resolve("labels"), IdxFiles.labels(new byte[] {1, 2}));
        UserError e = assertThrows(UserError.class, () -> Idx.readImages(labels));
        assertTrue(e.getMessage().startsWith(labels + ": wrong magic number 0x00000801"
                + " (expected 0x00000803 for an IDX image file); is this an MNIST images file?"),
                e.getMessage());

        Path text = IdxFiles.write(tmp.resolve("notes.txt"), "hello, world\n".getBytes());
        e = assertThrows(UserError.class, () -> Idx.readLabels(text));
        assertTrue(e.getMessage().contains("wrong magic number 0x68656c6c (expected 0x00000801"
                + " for an IDX label file)"), e.getMessage());
        assertTrue(e.getMessage().startsWith(text.toString()), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void truncatedFileIsAUserError() throws IOException {
        byte[] full = IdxFiles.images(3, 28, 28, new byte[3 * 784]);
        byte[] cut = Arrays.copyOf(full, full.length - 100);
        Path plain = IdxFiles.write(tmp.resolve("cut-images"), cut);
        UserError e = assertThrows(UserError.class, () -> Idx.readImages(plain));
        assertTrue(e.getMessage().startsWith(plain + ": truncated"), e.getMessage());
        assertTrue(e.getMessage().contains("2352 bytes"), e.getMessage());     // expected
        assertTrue(e.getMessage().contains("only 2252 bytes"), e.getMessage()); // actual

        // a gzip stream cut short
        byte[] gz = IdxFiles.gzip(IdxFiles.labels(new byte[5000]));
        Path gzCut = IdxFiles.write(tmp.resolve("cut-labels.gz"),
                Arrays.copyOf(gz, gz.length / 2));
        e = assertThrows(UserError.class, () -> Idx.readLabels(gzCut));
        assertTrue(e.getMessage().startsWith(gzCut + ": truncated"), e.getMessage());

        // complete gzip of a truncated file: counts after decompression
        Path gzShort = IdxFiles.write(tmp.resolve("short-labels.gz"),
                IdxFiles.gzip(Arrays.copyOf(IdxFiles.labels(new byte[50]), 8 + 20)));
        e = assertThrows(UserError.class, () -> Idx.readLabels(gzShort));
        assertTrue(e.getMessage().contains("truncated: the header says 50 labels (50 bytes"),
                e.getMessage());
        assertTrue(e.getMessage().contains("only 20 bytes follow (after decompression)"),
                e.getMessage());

        // header itself cut
        Path stub = IdxFiles.write(tmp.resolve("stub"), Arrays.copyOf(full, 10));
        e = assertThrows(UserError.class, () -> Idx.readImages(stub));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void extraBytesAreAUserError() throws IOException {
        byte[] full = IdxFiles.labels(new byte[] {1, 2, 3});
        Path f = IdxFiles.write(tmp.resolve("long"), Arrays.copyOf(full, full.length + 4));
        UserError e = assertThrows(UserError.class, () -> Idx.readLabels(f));
        assertTrue(e.getMessage().contains("4 bytes more than the header's 3 labels"),
                e.getMessage());
    }

    @Test
    void mnistLoadFindsPlainAndGzippedFilesAndChecksThem() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("m"));
        IdxFiles.writeMnist(dir, "train", 30, true);
        IdxFiles.writeMnist(dir, "t10k", 12, false);
        Mnist m = Mnist.load(dir);
        assertEquals(30, m.train().size());
        assertEquals(12, m.test().size());
        assertEquals(7, m.train().label(17));
        assertEquals(((5 * 7 + 100) % 256) / 255f, m.train().pixel(5, 100));

        Files.delete(dir.resolve("t10k-labels-idx1-ubyte"));
        UserError e = assertThrows(UserError.class, () -> Mnist.load(dir));
        assertTrue(e.getMessage().startsWith(dir + ": no t10k-labels-idx1-ubyte"),
                e.getMessage());

        // labels from another split: counts differ
        Files.copy(dir.resolve("train-labels-idx1-ubyte.gz"),
                dir.resolve("t10k-labels-idx1-ubyte.gz"));
        e = assertThrows(UserError.class, () -> Mnist.load(dir));
        assertTrue(e.getMessage().contains("30 labels but"), e.getMessage());

        e = assertThrows(UserError.class, () -> Mnist.load(tmp.resolve("nowhere")));
        assertTrue(e.getMessage().contains("not a folder"), e.getMessage());
    }

    @Test
    void nonMnistShapesAndLabelsAreRejected() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("odd"));
        IdxFiles.writeMnist(dir, "t10k", 4, false);
        IdxFiles.write(dir.resolve("train-images-idx3-ubyte"),
                IdxFiles.images(2, 2, 2, new byte[8]));
        IdxFiles.write(dir.resolve("train-labels-idx1-ubyte"),
                IdxFiles.labels(new byte[] {0, 1}));
        UserError e = assertThrows(UserError.class, () -> Mnist.load(dir));
        assertTrue(e.getMessage().contains("images are 2x2"), e.getMessage());

        Path im = IdxFiles.write(tmp.resolve("im"), IdxFiles.images(1, 1, 1, new byte[1]));
        Path lb = IdxFiles.write(tmp.resolve("lb"), IdxFiles.labels(new byte[] {12}));
        e = assertThrows(UserError.class, () -> Idx.read(im, lb));
        assertTrue(e.getMessage().contains("label 12 at index 0 is not a digit"), e.getMessage());
    }
}
