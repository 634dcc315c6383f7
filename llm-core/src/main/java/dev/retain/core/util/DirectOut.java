package dev.retain.core.util;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Writes a large file with direct I/O ({@code O_DIRECT}): the bytes are gathered in two aligned
 * buffers of {@value #CHUNK} bytes, and while one is filled a second thread writes the other to
 * the disk. A model archive written through the page cache costs a copy into the cache and then,
 * at the fsync that makes it durable before its rename, the disk's write of the whole file;
 * written directly, the disk's write overlaps the filling, and the fsync has nothing left to do
 * but the file's metadata. The file ends padded to the alignment and is cut back to its length
 * at {@link #finish}; patches of bytes already on their way to the disk are written through the
 * caller's (buffered) channel after that.
 *
 * <p>{@link #open} uses it only for large files ({@value #THRESHOLD} bytes or more: a small file
 * is better left in the page cache, where the next reader finds it), and only where the file
 * system takes direct I/O (not tmpfs, for example); elsewhere, or with {@code
 * -Dretain.direct-io=false}, it returns a writer on the caller's channel.
 */
public final class DirectOut implements SequentialOut {

    /** Bytes per buffer (two of them). */
    static final int CHUNK = 8 << 20;
    /** Files expected smaller than this are written through the page cache. */
    public static final long THRESHOLD = 64L << 20;
    /**
     * The system property that chooses: {@code false} writes every file through the page cache,
     * {@code always} every file (however small) with direct I/O where the file system takes it;
     * unset, files of at least {@link #THRESHOLD} bytes.
     */
    public static final String PROPERTY = "retain.direct-io";

    private final FileChannel direct;
    private final FileChannel plain;
    private final int align;
    private final ByteBuffer[] bufs = new ByteBuffer[2];
    @SuppressWarnings("unchecked")
    private final Future<?>[] pending = new Future<?>[2];
    private final ExecutorService io;
    private final List<Patch> patches = new ArrayList<>();
    private int cur;
    /** File offset of the first byte of {@code bufs[cur]}. */
    private long base;
    private long position;

    private record Patch(long at, byte[] bytes) {}

    /**
     * @param direct the file opened for direct I/O, empty
     * @param plain the same file's ordinary channel (for the patches after the end)
     * @param align the alignment direct I/O needs (buffer address, file offset, length)
     */
    DirectOut(FileChannel direct, FileChannel plain, int align) {
        this.direct = direct;
        this.plain = plain;
        this.align = align;
        for (int i = 0; i < 2; i++) {
            bufs[i] = ByteBuffer.allocateDirect(CHUNK + align).alignedSlice(align).slice(0, CHUNK);
        }
        this.io = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "retain-direct-write");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * A writer for a file about to be written from its start.
     *
     * @param file the file (already created, empty), to open a second time for direct I/O
     * @param channel its ordinary channel, at position 0
     * @param expected about how many bytes will be written
     * @return direct I/O for a large file where the file system takes it; else the channel
     */
    public static SequentialOut open(Path file, FileChannel channel, long expected) {
        String mode = System.getProperty(PROPERTY, "");
        boolean wanted = mode.equals("always") || !mode.equals("false") && expected >= THRESHOLD;
        if (wanted) {
            try {
                int align = (int) Math.max(4096, Files.getFileStore(file).getBlockSize());
                if (align <= 1 << 16 && Integer.bitCount(align) == 1) {
                    FileChannel d = FileChannel.open(file, StandardOpenOption.WRITE,
                            com.sun.nio.file.ExtendedOpenOption.DIRECT);
                    return new DirectOut(d, channel, align);
                }
            } catch (IOException | UnsupportedOperationException e) {
                // this file system takes no direct I/O (tmpfs: EINVAL): the page cache, as before
            }
        }
        return of(channel);
    }

    /**
     * @param channel a file's channel, at the position where writing starts
     * @return a writer that writes through it (the page cache)
     */
    public static SequentialOut of(FileChannel channel) {
        return new ChannelOut(channel);
    }

    @Override
    public long position() {
        return position;
    }

    @Override
    public void write(ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            ByteBuffer b = bufs[cur];
            int n = Math.min(b.remaining(), src.remaining());
            b.put(b.position(), src, src.position(), n);
            b.position(b.position() + n);
            src.position(src.position() + n);
            position += n;
            if (!b.hasRemaining()) {
                submit();
            }
        }
    }

    @Override
    public void patch(long at, ByteBuffer bytes) throws IOException {
        int n = bytes.remaining();
        if (at < 0 || at + n > position) {
            throw new IllegalArgumentException("patch of " + n + " bytes at " + at
                    + " outside the " + position + " written");
        }
        if (at >= base) { // still in the buffer being filled
            bufs[cur].put((int) (at - base), bytes, bytes.position(), n);
        } else {
            byte[] copy = new byte[n];
            bytes.get(bytes.position(), copy);
            patches.add(new Patch(at, copy));
        }
    }

    @Override
    public void copy(FileChannel src, long from, long count) throws IOException {
        long end = from + count;
        for (long at = from; at < end; ) {
            ByteBuffer b = bufs[cur];
            int n = (int) Math.min(b.remaining(), end - at);
            int read = src.read(b.slice(b.position(), n), at);
            if (read < 0) {
                throw new EOFException("the file ends " + (end - at) + " bytes before the range");
            }
            b.position(b.position() + read);
            at += read;
            position += read;
            if (!b.hasRemaining()) {
                submit();
            }
        }
    }

    @Override
    public void finish() throws IOException {
        ByteBuffer b = bufs[cur];
        if (b.position() > 0) {
            int padded = (b.position() + align - 1) / align * align;
            while (b.position() < padded) {
                b.put((byte) 0);
            }
            submit();
        }
        await(0);
        await(1);
        direct.truncate(position);
        for (Patch p : patches) {
            ByteBuffer w = ByteBuffer.wrap(p.bytes());
            for (long at = p.at(); w.hasRemaining(); ) {
                at += plain.write(w, at);
            }
        }
        patches.clear();
        plain.position(position);
    }

    @Override
    public void close() throws IOException {
        io.shutdownNow();
        direct.close();
    }

    /** Hands the filled buffer to the writing thread and takes the other one once it is free. */
    private void submit() throws IOException {
        ByteBuffer b = bufs[cur].flip();
        long at = base;
        pending[cur] = io.submit(() -> {
            for (long p = at; b.hasRemaining(); ) {
                p += direct.write(b, p);
            }
            return null;
        });
        base += b.limit();
        cur ^= 1;
        await(cur);
        bufs[cur].clear();
    }

    private void await(int i) throws IOException {
        Future<?> f = pending[i];
        if (f == null) {
            return;
        }
        pending[i] = null;
        try {
            f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing");
        }
    }

    /** Writes through a file's channel: the page cache. */
    private static final class ChannelOut implements SequentialOut {
        private final FileChannel out;
        private long written;

        ChannelOut(FileChannel out) {
            this.out = out;
        }

        @Override
        public long position() {
            return written;
        }

        @Override
        public void write(ByteBuffer src) throws IOException {
            while (src.hasRemaining()) {
                written += out.write(src);
            }
        }

        @Override
        public void patch(long at, ByteBuffer bytes) throws IOException {
            ByteBuffer b = bytes.duplicate();
            long start = out.position() - written;
            for (long p = start + at; b.hasRemaining(); ) {
                p += out.write(b, p);
            }
        }

        @Override
        public void copy(FileChannel src, long from, long count) throws IOException {
            for (long at = from, left = count; left > 0; ) {
                long n = src.transferTo(at, left, out);
                if (n <= 0) {
                    throw new EOFException("the file ends " + left + " bytes before the range");
                }
                at += n;
                left -= n;
                written += n;
            }
        }

        @Override
        public void finish() {
            // every byte is in the channel already
        }

        @Override
        public void close() {
            // the caller's channel is the caller's to close
        }
    }
}
