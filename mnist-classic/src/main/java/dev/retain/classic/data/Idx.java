package dev.retain.classic.data;

import dev.retain.core.UserError;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads MNIST's IDX files (LeCun's format: a big-endian header, then unsigned bytes), plain or
 * gzipped; gzip is recognised by its magic bytes {@code 1f 8b}, not by the file name.
 *
 * <ul>
 *   <li>images ({@code idx3-ubyte}): magic {@code 0x00000803}, count, rows, cols, then
 *       {@code count * rows * cols} pixel bytes, row-major;
 *   <li>labels ({@code idx1-ubyte}): magic {@code 0x00000801}, count, then {@code count} bytes.
 * </ul>
 *
 * <p>Everything wrong with a file (not there, wrong magic, bad dimensions, shorter or longer than
 * its header says, a broken gzip stream, labels outside 0..9) is a {@link UserError} naming it.
 */
public final class Idx {

    /** Magic number of an IDX file of unsigned bytes with 3 dimensions (images). */
    public static final int IMAGES_MAGIC = 0x00000803;
    /** Magic number of an IDX file of unsigned bytes with 1 dimension (labels). */
    public static final int LABELS_MAGIC = 0x00000801;

    private static final int MAX_SIDE = 1 << 16;
    private static final int CHUNK = 1 << 16;

    private Idx() {}

    /**
     * Images as read from an IDX image file.
     *
     * @param count number of images
     * @param rows image height
     * @param cols image width
     * @param pixels {@code count * rows * cols} values in [0, 1] (byte / 255), row-major
     */
    public record Images(int count, int rows, int cols, float[] pixels) {}

    /**
     * Reads an image file and its label file into one split.
     *
     * @param images the {@code *-images-idx3-ubyte[.gz]} file
     * @param labels the {@code *-labels-idx1-ubyte[.gz]} file
     * @return the split
     * @throws UserError when either file is bad, a label is not a digit, or the counts differ
     */
    public static MnistImages read(Path images, Path labels) {
        Images im = readImages(images);
        int[] y = readLabels(labels);
        if (y.length != im.count()) {
            throw new UserError(labels + ": " + y.length + " labels but " + images + " has "
                    + im.count() + " images; use the label file that belongs to these images");
        }
        for (int i = 0; i < y.length; i++) {
            if (y[i] > 9) {
                throw new UserError(labels + ": label " + y[i] + " at index " + i
                        + " is not a digit 0..9; is this an MNIST labels file?");
            }
        }
        return new MnistImages(images.toString(), im.rows(), im.cols(), im.pixels(), y);
    }

    /**
     * Reads an IDX image file.
     *
     * @param file the file, plain or gzipped
     * @return the images, pixels scaled to [0, 1]
     * @throws UserError when the file is missing, not an IDX image file, or truncated
     */
    public static Images readImages(Path file) {
        try (InputStream in = open(file)) {
            int[] h = header(in, file, 4, IMAGES_MAGIC, "image", "images");
            int count = h[1];
            int rows = h[2];
            int cols = h[3];
            if (count < 0 || rows <= 0 || cols <= 0 || rows > MAX_SIDE || cols > MAX_SIDE) {
                throw new UserError(file + ": bad dimensions in the header (" + count
                        + " images of " + rows + "x" + cols + "); is this an MNIST images file?");
            }
            long n = (long) count * rows * cols;
            if (n > Integer.MAX_VALUE - 16) {
                throw new UserError(file + ": " + count + " images of " + rows + "x" + cols
                        + " is more than fits in memory here; use a smaller file");
            }
            float[] pixels = new float[(int) n];
            byte[] buf = new byte[CHUNK];
            long got = 0;
            try {
                while (got < n) {
                    int r = in.read(buf, 0, (int) Math.min(CHUNK, n - got));
                    if (r < 0) {
                        break;
                    }
                    for (int k = 0; k < r; k++) {
                        pixels[(int) got + k] = (buf[k] & 0xff) / 255f;
                    }
                    got += r;
                }
            } catch (EOFException e) {
                // a gzip stream cut short: report it like a plain truncated file
            }
            if (got < n) {
                throw truncated(file, 16, count + " images of " + rows + "x" + cols, n, got);
            }
            checkNoTrailing(in, file, count + " images of " + rows + "x" + cols);
            return new Images(count, rows, cols, pixels);
        } catch (IOException e) {
            throw ioError(file, e);
        }
    }

    /**
     * Reads an IDX label file.
     *
     * @param file the file, plain or gzipped
     * @return the labels, 0..255 each
     * @throws UserError when the file is missing, not an IDX label file, or truncated
     */
    public static int[] readLabels(Path file) {
        try (InputStream in = open(file)) {
            int[] h = header(in, file, 2, LABELS_MAGIC, "label", "labels");
            int count = h[1];
            if (count < 0) {
                throw new UserError(file + ": bad label count " + count
                        + " in the header; is this an MNIST labels file?");
            }
            byte[] b = new byte[count];
            int got = 0;
            try {
                while (got < count) {
                    int r = in.read(b, got, count - got);
                    if (r < 0) {
                        break;
                    }
                    got += r;
                }
            } catch (EOFException e) {
                // a gzip stream cut short
            }
            if (got < count) {
                throw truncated(file, 8, count + " labels", count, got);
            }
            checkNoTrailing(in, file, count + " labels");
            int[] y = new int[count];
            for (int i = 0; i < count; i++) {
                y[i] = b[i] & 0xff;
            }
            return y;
        } catch (IOException e) {
            throw ioError(file, e);
        }
    }

    /**
     * Opens a file for reading, decompressing it when it starts with the gzip magic {@code 1f 8b}.
     *
     * @param file the file
     * @return a stream of its (decompressed) bytes
     * @throws IOException when it cannot be read
     */
    static InputStream open(Path file) throws IOException {
        InputStream raw = new BufferedInputStream(Files.newInputStream(file), CHUNK);
        raw.mark(2);
        int b0 = raw.read();
        int b1 = raw.read();
        raw.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            return new BufferedInputStream(new GZIPInputStream(raw, CHUNK), CHUNK);
        }
        return raw;
    }

    private static int[] header(InputStream in, Path file, int ints, int expectedMagic,
            String kind, String what) throws IOException {
        byte[] b = new byte[4 * ints];
        int got = 0;
        try {
            while (got < b.length) {
                int r = in.read(b, got, b.length - got);
                if (r < 0) {
                    break;
                }
                got += r;
            }
        } catch (EOFException e) {
            // fall through with what we have
        }
        if (got < 4) {
            throw new UserError(file + ": truncated: only " + got + (isGzip(file)
                    ? " bytes come out of its gzip stream" : " bytes")
                    + ", too short for an IDX header; re-download or rebuild the file");
        }
        // the magic is checked first so that a wrong file gets the clearer message
        checkMagic(file, readInt(b, 0), expectedMagic, kind, what);
        if (got < b.length) {
            throw new UserError(file + ": truncated: the IDX header needs " + b.length
                    + " bytes but the file has only " + got + "; re-download or rebuild it");
        }
        int[] h = new int[ints];
        for (int i = 0; i < ints; i++) {
            h[i] = readInt(b, 4 * i);
        }
        return h;
    }

    private static int readInt(byte[] b, int off) {
        return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16)
                | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
    }

    private static void checkMagic(Path file, int magic, int expected, String kind, String what) {
        if (magic == expected) {
            return;
        }
        String msg = file + ": wrong magic number " + hex(magic) + " (expected " + hex(expected)
                + " for an IDX " + kind + " file); is this an MNIST " + what + " file?";
        if (magic == IMAGES_MAGIC) {
            msg += " (" + hex(magic) + " is an IDX image file)";
        } else if (magic == LABELS_MAGIC) {
            msg += " (" + hex(magic) + " is an IDX label file)";
        }
        throw new UserError(msg);
    }

    private static String hex(int v) {
        return String.format("0x%08x", v);
    }

    private static UserError truncated(Path file, int headerBytes, String what, long expected,
            long actual) {
        return new UserError(file + ": truncated: the header says " + what + " (" + expected
                + " bytes after the " + headerBytes + "-byte header) but only " + actual
                + " bytes follow" + (isGzip(file) ? " (after decompression)" : "")
                + "; re-download or rebuild the file");
    }

    private static void checkNoTrailing(InputStream in, Path file, String what) throws IOException {
        long extra = 0;
        byte[] b = new byte[CHUNK];
        int r;
        while ((r = in.read(b)) > 0) {
            extra += r;
        }
        if (extra > 0) {
            throw new UserError(file + ": " + extra + " bytes more than the header's " + what
                    + "; the file is damaged or not MNIST IDX, re-download or rebuild it");
        }
    }

    private static boolean isGzip(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return in.read() == 0x1f && in.read() == 0x8b;
        } catch (IOException e) {
            return false;
        }
    }

    private static UserError ioError(Path file, IOException e) {
        if (e instanceof NoSuchFileException) {
            return new UserError(file + ": no such file; check the path", e);
        }
        if (e instanceof ZipException || (e instanceof EOFException && isGzip(file))) {
            return new UserError(file + ": broken gzip data (" + e.getMessage()
                    + "); re-download or rebuild the file", e);
        }
        return new UserError(file + ": cannot read (" + e + "); check the file", e);
    }
}
