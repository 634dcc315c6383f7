package dev.retain.core.util;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Writes a large file with direct I/O ({@code O_DIRECT}): the bytes are gathered in {@value
 * #BUFFERS} aligned buffers of {@value #CHUNK} bytes, and while one is filled a second thread
 * writes the others to the disk (and, when the file is hashed, a third hashes each buffer before
 * it is written, so that the SHA-256 of a checkpoint's file costs no time of the thread that
 * fills them). A model archive written through the page cache costs a copy into the cache and then,
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

    /** Bytes per buffer. */
    static final int CHUNK = 8 << 20;
    /** Buffers: one being filled, one being hashed, one being written. */
    static final int BUFFERS = 3;
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
    private final Path name;
    private final int align;
    /** The buffers as allocated (freed at close), and their aligned views. */
    private final ByteBuffer[] raw = new ByteBuffer[BUFFERS];
    private final ByteBuffer[] bufs = new ByteBuffer[BUFFERS];
    private final Future<?>[] pending = new Future<?>[BUFFERS];
    private final ExecutorService io;
    /** Hashes the buffers in order, when {@link #hash} asked for it. */
    private ExecutorService hasher;
    private final List<Patch> patches = new ArrayList<>();
    private MessageDigest md;
    private int cur;
    /** File offset of the first byte of {@code bufs[cur]}. */
    private long base;
    private long position;

    private record Patch(long at, byte[] bytes) {}

    /**
     * @param direct the file opened for direct I/O, empty
     * @param plain the same file's ordinary channel (for the patches after the end)
     * @param align the alignment direct I/O needs (buffer address, file offset, length)
     * @param name the file a failure names (see {@link #open}), or null
     */
    DirectOut(FileChannel direct, FileChannel plain, int align, Path name) {
        this.direct = direct;
        this.plain = plain;
        this.name = name;
        this.align = align;
        for (int i = 0; i < BUFFERS; i++) {
            raw[i] = ByteBuffer.allocateDirect(CHUNK + align);
            bufs[i] = raw[i].alignedSlice(align).slice(0, CHUNK);
        }
        this.io = thread("retain-direct-write");
    }

    private static ExecutorService thread(String name) {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name);
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
     * @param name the file that a failure to write names ({@link IoFailure#writing}: the target
     *     that a temporary {@code file} becomes), or null for a failure as it comes
     * @return direct I/O for a large file where the file system takes it; else the channel
     */
    public static SequentialOut open(Path file, FileChannel channel, long expected, Path name) {
        String mode = System.getProperty(PROPERTY, "");
        boolean wanted = mode.equals("always") || !mode.equals("false") && expected >= THRESHOLD;
        Opened d = wanted ? openDirect(file) : null;
        return d == null ? new ChannelOut(channel, name)
                : new DirectOut(d.channel(), channel, d.align(), name);
    }

    /**
     * Whether files in a folder can be written with direct I/O (the check {@link #open} makes,
     * made on a scratch file there), whatever {@value #PROPERTY} says.
     *
     * @param dir an existing folder
     * @return false on a file system that takes no direct I/O (tmpfs)
     * @throws IOException when the scratch file cannot be made or removed
     */
    public static boolean supported(Path dir) throws IOException {
        Path scratch = Files.createTempFile(dir, ".direct-io-", ".probe");
        try {
            Opened d = openDirect(scratch);
            if (d != null) {
                d.channel().close();
            }
            return d != null;
        } finally {
            Files.delete(scratch);
        }
    }

    /** A file opened for direct I/O, and the alignment that its writes need. */
    private record Opened(FileChannel channel, int align) {}

    /**
     * @param file an existing, empty file
     * @return it opened for direct I/O and checked by a write, or null where its file system takes
     *     none
     */
    private static Opened openDirect(Path file) {
        try {
            int align = (int) Math.max(4096, Files.getFileStore(file).getBlockSize());
            if (align > 1 << 16 || Integer.bitCount(align) != 1) {
                return null;
            }
            FileChannel d = FileChannel.open(file, StandardOpenOption.WRITE,
                    com.sun.nio.file.ExtendedOpenOption.DIRECT);
            try {
                probe(d, align); // some file systems open for direct I/O, then refuse it
                return new Opened(d, align);
            } catch (IOException e) {
                d.close();
                return null;
            }
        } catch (IOException | UnsupportedOperationException e) {
            return null; // this file system takes no direct I/O (tmpfs: EINVAL): the page cache
        }
    }

    /**
     * @param channel a file's channel, at the position where writing starts
     * @return a writer that writes through it (the page cache); its failures as they come
     */
    public static SequentialOut of(FileChannel channel) {
        return new ChannelOut(channel, null);
    }

    @Override
    public long position() {
        return position;
    }

    @Override
    public void hash(MessageDigest digest) {
        fromTheStart(position);
        this.md = digest;
        if (hasher == null) {
            hasher = thread("retain-direct-hash");
        }
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
                submit(b.position());
            }
        }
    }

    @Override
    public void patch(long at, ByteBuffer bytes) throws IOException {
        unhashed(md, "patch");
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
        unhashed(md, "copy");
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
                submit(b.position());
            }
        }
    }

    @Override
    public void finish() throws IOException {
        ByteBuffer b = bufs[cur];
        int length = b.position();
        if (length > 0) {
            int padded = (length + align - 1) / align * align;
            while (b.position() < padded) {
                b.put((byte) 0);
            }
            submit(length);
        }
        for (int i = 0; i < BUFFERS; i++) {
            await(i);
        }
        try {
            direct.truncate(position);
            for (Patch p : patches) {
                ByteBuffer w = ByteBuffer.wrap(p.bytes());
                for (long at = p.at(); w.hasRemaining(); ) {
                    at += plain.write(w, at);
                }
            }
            patches.clear();
            plain.position(position);
        } catch (IOException e) {
            throw named(name, e);
        }
    }

    @Override
    public void close() throws IOException {
        io.shutdownNow();
        if (hasher != null) {
            hasher.shutdownNow();
        }
        boolean idle = false;
        try {
            idle = io.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES)
                    && (hasher == null
                            || hasher.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            direct.close();
        }
        if (idle) { // no thread can still be reading them
            for (ByteBuffer r : raw) {
                Unmap.now(r);
            }
        }
    }

    /** Writes one aligned block of zeros at the start of the (empty) file and cuts it off again. */
    private static void probe(FileChannel d, int align) throws IOException {
        ByteBuffer mem = ByteBuffer.allocateDirect(2 * align);
        try {
            ByteBuffer block = mem.alignedSlice(align).slice(0, align);
            while (block.hasRemaining()) {
                d.write(block, block.position());
            }
            d.truncate(0);
        } finally {
            Unmap.now(mem);
        }
    }

    /**
     * Hands the filled buffer on (to be hashed, then written) and takes the next one once it is
     * free.
     *
     * @param length the buffer's bytes of the file (the rest, up to its limit, is padding)
     */
    private void submit(int length) throws IOException {
        ByteBuffer b = bufs[cur].flip();
        long at = base;
        Callable<Void> write = () -> {
            for (long p = at; b.hasRemaining(); ) {
                p += direct.write(b, p);
            }
            return null;
        };
        if (md == null) {
            pending[cur] = io.submit(write);
        } else { // hashed in order (one thread), each buffer before it is written
            MessageDigest d = md;
            pending[cur] = CompletableFuture
                    .runAsync(() -> d.update(b.duplicate().limit(length)), hasher)
                    .thenApplyAsync(v -> {
                        try {
                            return write.call();
                        } catch (Exception e) {
                            throw new CompletionException(e);
                        }
                    }, io);
        }
        base += b.limit();
        cur = (cur + 1) % BUFFERS;
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
            Throwable c = e.getCause() instanceof CompletionException ce && ce.getCause() != null
                    ? ce.getCause() : e.getCause();
            throw named(name, c instanceof IOException io ? io : new IOException(c));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing");
        }
    }

    private static void fromTheStart(long position) {
        if (position > 0) {
            throw new IllegalStateException("hash() after " + position + " bytes");
        }
    }

    private static void unhashed(MessageDigest md, String what) {
        if (md != null) {
            throw new IllegalStateException("a " + what + " in a file being hashed");
        }
    }

    /** A failure to write, naming the file where there is a name. */
    private static IOException named(Path name, IOException e) {
        return name == null ? e : IoFailure.writing(name, e);
    }

    /** Writes through a file's channel: the page cache. */
    private static final class ChannelOut implements SequentialOut {
        private final FileChannel out;
        private final Path name;
        private MessageDigest md;
        private long written;

        ChannelOut(FileChannel out, Path name) {
            this.out = out;
            this.name = name;
        }

        @Override
        public void hash(MessageDigest digest) {
            fromTheStart(written);
            this.md = digest;
        }

        @Override
        public long position() {
            return written;
        }

        @Override
        public void write(ByteBuffer src) throws IOException {
            if (md != null) {
                md.update(src.duplicate());
            }
            try {
                while (src.hasRemaining()) {
                    written += out.write(src);
                }
            } catch (IOException e) {
                throw named(name, e);
            }
        }

        @Override
        public void patch(long at, ByteBuffer bytes) throws IOException {
            unhashed(md, "patch");
            ByteBuffer b = bytes.duplicate();
            try {
                long start = out.position() - written;
                for (long p = start + at; b.hasRemaining(); ) {
                    p += out.write(b, p);
                }
            } catch (IOException e) {
                throw named(name, e);
            }
        }

        @Override
        public void copy(FileChannel src, long from, long count) throws IOException {
            unhashed(md, "copy");
            for (long at = from, left = count; left > 0; ) {
                long n;
                try {
                    n = src.transferTo(at, left, out);
                } catch (IOException e) { // the kernel's copy: a full disk, most likely
                    throw named(name, e);
                }
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
