package dev.retain.core.util;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Writes named arrays in DJL's NDList encoding ({@link NDList#decode} reads it back; the bytes are
 * those of {@link NDList#encode}) straight from each tensor's memory. DJL's own encoder copies
 * every array into a Java byte array first: at GPT-2 scale a 150-200 MB array per tensor (the
 * embedding's optimizer moments, its Fisher), which grew the Java heap by gigabytes and made a
 * checkpoint several times slower than copying its files.
 */
public final class TensorStreams {

    /** DJL's NDArray encoding: magic, version (NDSerializer). */
    private static final String MAGIC = "NDAR";
    private static final int VERSION = 3;
    private static final int CHUNK = 1 << 20;

    private TensorStreams() {}

    /**
     * Writes a list.
     *
     * @param arrays dense CPU arrays (non-contiguous ones are made contiguous for the write)
     * @param os where to (buffer it: the headers are written a few bytes at a time)
     * @throws IOException when writing fails
     */
    public static void write(List<NDArray> arrays, OutputStream os) throws IOException {
        write(arrays, arrays.stream().map(NDArray::getName).toList(), os);
    }

    /**
     * Writes a list under names of the caller's (a parameter's array need not be renamed).
     *
     * @param arrays dense CPU arrays
     * @param names the name of each array, in order (null: unnamed)
     * @param os where to
     * @throws IOException when writing fails
     */
    public static void write(List<NDArray> arrays, List<String> names, OutputStream os)
            throws IOException {
        DataOutputStream out = new DataOutputStream(os);
        out.writeInt(arrays.size());
        byte[] chunk = new byte[CHUNK];
        for (int i = 0; i < arrays.size(); i++) {
            // A view of the tensor's own memory (no copy) for a contiguous CPU tensor.
            ByteBuffer bb = arrays.get(i).toByteBuffer(true);
            out.write(header(arrays.get(i), names.get(i), bb));
            while (bb.hasRemaining()) {
                int n = Math.min(chunk.length, bb.remaining());
                bb.get(chunk, 0, n);
                out.write(chunk, 0, n);
            }
        }
        out.flush();
    }

    /**
     * Writes a list to a new file, as {@link #write(List, List, OutputStream)} encodes it, with
     * each tensor's memory handed to the file as it is (direct I/O for a large file: {@link
     * DirectOut}) and the file's SHA-256 computed on the way ({@link Hashing#remember}). The file
     * is not forced to disk: the caller syncs it with the files it belongs with.
     *
     * @param file the file to create (it must not exist)
     * @param arrays dense CPU arrays, written under their own names
     * @throws IOException when writing fails (naming the file)
     */
    public static void writeFile(Path file, List<NDArray> arrays) throws IOException {
        long bytes = 0;
        for (NDArray a : arrays) {
            bytes += a.size() * a.getDataType().getNumOfBytes();
        }
        java.security.MessageDigest md = Hashing.digest();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE);
                SequentialOut out = DirectOut.open(file, ch, bytes, file)) {
            out.hash(md);
            out.write(ByteBuffer.allocate(Integer.BYTES).putInt(arrays.size()).flip()); // big-endian
            for (NDArray a : arrays) {
                ByteBuffer bb = a.toByteBuffer(true);
                out.write(ByteBuffer.wrap(header(a, a.getName(), bb)));
                out.write(bb.duplicate());
            }
            out.finish();
        } catch (IOException e) {
            throw IoFailure.writing(file, e);
        }
        Hashing.remember(file, Hashing.hex(md));
    }

    /** An array's encoding up to its data: magic, version, name, format, type, shape, order, size. */
    private static byte[] header(NDArray a, String name, ByteBuffer data) throws IOException {
        if (a.getDataType() == DataType.STRING) {
            throw new IllegalArgumentException(name + ": string arrays are not written here");
        }
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(128);
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeUTF(MAGIC);
        out.writeInt(VERSION);
        if (name == null) {
            out.write(0);
        } else {
            out.write(1);
            out.writeUTF(name);
        }
        out.writeUTF(a.getSparseFormat().name());
        out.writeUTF(a.getDataType().name());
        out.write(a.getShape().getEncoded());
        out.write(data.order() == ByteOrder.BIG_ENDIAN ? '>' : '<');
        out.writeInt(data.remaining());
        return bytes.toByteArray();
    }
}
