package dev.retain.core.util;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;

/**
 * Where a file written front to back goes (a model archive of hundreds of MB to several GB): bytes
 * appended in order, a few small patches of earlier bytes (a zip entry's CRC-32), and copies of
 * ranges of other files. {@link DirectOut#open} picks the implementation: the file's channel, or
 * direct I/O that writes the bytes to the disk as they come instead of leaving them in the page
 * cache for a later fsync.
 */
public interface SequentialOut extends Closeable {

    /** @return bytes written so far, which is where the next byte goes */
    long position();

    /**
     * Appends bytes.
     *
     * @param src the bytes, from its position to its limit (consumed)
     * @throws IOException when writing fails
     */
    void write(ByteBuffer src) throws IOException;

    /**
     * Overwrites bytes already appended.
     *
     * @param at where the first one is
     * @param bytes the new bytes, from its position to its limit (not moved)
     * @throws IOException when writing fails
     */
    void patch(long at, ByteBuffer bytes) throws IOException;

    /**
     * Appends a range of another file.
     *
     * @param src the file's channel
     * @param from the range's first byte
     * @param count its length
     * @throws IOException when reading or writing fails, or the file ends first
     */
    void copy(FileChannel src, long from, long count) throws IOException;

    /**
     * Hashes every byte appended by {@link #write} from now on, so that the file's digest is known
     * without reading it back. A writer that hashes refuses {@link #patch} and {@link #copy}
     * (bytes that the digest would not see).
     *
     * @param md the digest to update
     */
    void hash(MessageDigest md);

    /**
     * Puts every byte in the file, which then has exactly {@link #position()} bytes. Making them
     * durable (fsync) and closing the file are the caller's.
     *
     * @throws IOException when writing fails
     */
    void finish() throws IOException;

    /** Releases what this writer holds beyond the caller's channel (it does not close that). */
    @Override
    void close() throws IOException;
}
