package dev.retain.classic.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Writes small IDX files for the tests. */
final class IdxFiles {

    private IdxFiles() {}

    static byte[] images(int count, int rows, int cols, byte[] pixels) {
        ByteBuffer b = ByteBuffer.allocate(16 + pixels.length);
        b.putInt(Idx.IMAGES_MAGIC).putInt(count).putInt(rows).putInt(cols).put(pixels);
        return b.array();
    }

    static byte[] labels(byte[] labels) {
        ByteBuffer b = ByteBuffer.allocate(8 + labels.length);
        b.putInt(Idx.LABELS_MAGIC).putInt(labels.length).put(labels);
        return b.array();
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(bos)) {
            gz.write(raw);
        }
        return bos.toByteArray();
    }

    static Path write(Path file, byte[] content) throws IOException {
        Files.write(file, content);
        return file;
    }

    /** Images {@code i} has every pixel {@code (i * 7 + p) % 256}; labels are {@code i % 10}. */
    static void writeMnist(Path dir, String prefix, int count, boolean gz) throws IOException {
        byte[] px = new byte[count * 784];
        byte[] y = new byte[count];
        for (int i = 0; i < count; i++) {
            y[i] = (byte) (i % 10);
            for (int p = 0; p < 784; p++) {
                px[i * 784 + p] = (byte) ((i * 7 + p) % 256);
            }
        }
        byte[] im = images(count, 28, 28, px);
        byte[] lb = labels(y);
        String ext = gz ? ".gz" : "";
        write(dir.resolve(prefix + "-images-idx3-ubyte" + ext), gz ? gzip(im) : im);
        write(dir.resolve(prefix + "-labels-idx1-ubyte" + ext), gz ? gzip(lb) : lb);
    }
}
