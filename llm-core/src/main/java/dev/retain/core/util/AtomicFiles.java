package dev.retain.core.util;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Writes files so that a reader sees the old content or the new, never half of the new. Every
 * temporary file made here (a file being written, a scratch file) is known until it is published
 * or removed, so that a command stopped by a signal removes them all ({@link
 * #removeTemporaryFiles}) and leaves nothing half-written behind.
 */
public final class AtomicFiles {

    /** Temporary files made here and not yet published or removed. */
    private static final Set<Path> LIVE = ConcurrentHashMap.newKeySet();
    private static volatile boolean stopping;

    private AtomicFiles() {}

    /**
     * Removes every temporary file not yet published or removed, and refuses new ones: for a
     * command that is being stopped by a signal (its work is abandoned).
     *
     * @return how many were removed
     */
    public static synchronized int removeTemporaryFiles() {
        stopping = true;
        int n = 0;
        for (Path p : LIVE) {
            try {
                n += delete(p);
            } catch (IOException e) {
                // nothing more can be done while the process ends
            }
        }
        LIVE.clear();
        return n;
    }

    /** Makes a temporary file in dir and remembers it. */
    private static synchronized Path temp(Path dir, String prefix) throws IOException {
        if (stopping) {
            throw new IOException("the command is being stopped");
        }
        Path tmp = Files.createTempFile(dir, prefix, ".tmp");
        LIVE.add(tmp);
        return tmp;
    }

    /**
     * Makes a temporary file that the caller writes and renames itself, known as {@link #open}'s
     * are: removed when the command is stopped. Remove it with {@link #removeTemporary} (or
     * forget it with {@link #published} once renamed).
     *
     * @param dir the folder
     * @param prefix the start of its name (a dot is put in front)
     * @return the empty file
     * @throws IOException when it cannot be created
     */
    public static Path temporaryFile(Path dir, String prefix) throws IOException {
        return temp(dir, "." + prefix);
    }

    /**
     * Makes a hidden temporary folder (files are written in it, then renamed out), removed with
     * everything in it when the command is stopped or by {@link #removeTemporary}.
     *
     * @param dir the folder to make it in
     * @param prefix the start of its name (a dot is put in front)
     * @return the folder
     * @throws IOException when it cannot be created
     */
    public static synchronized Path temporaryFolder(Path dir, String prefix) throws IOException {
        if (stopping) {
            throw new IOException("the command is being stopped");
        }
        Path tmp = Files.createTempDirectory(dir, "." + prefix);
        LIVE.add(tmp);
        return tmp;
    }

    /**
     * Removes a temporary file or folder of {@link #temporaryFile} or {@link #temporaryFolder}
     * (what is inside a folder too).
     *
     * @param tmp the file or folder
     * @throws IOException when it cannot be removed
     */
    public static void removeTemporary(Path tmp) throws IOException {
        try {
            delete(tmp);
        } finally {
            forget(tmp);
        }
    }

    /**
     * Forgets a temporary file that was renamed to its target.
     *
     * @param tmp the file
     */
    public static void published(Path tmp) {
        forget(tmp);
    }

    /** Deletes a file, or a folder and what is in it; @return how many were there */
    private static int delete(Path p) throws IOException {
        if (!Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return Files.deleteIfExists(p) ? 1 : 0;
        }
        int n = 0;
        try (java.util.stream.Stream<Path> all = Files.walk(p)) {
            for (Path f : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                n += Files.deleteIfExists(f) && !f.equals(p) ? 1 : 0;
            }
        }
        return Math.max(n, 1);
    }

    private static void forget(Path tmp) {
        LIVE.remove(tmp);
    }

    /** Something that writes a file's content to a stream. */
    @FunctionalInterface
    public interface Writer {
        /**
         * Writes the content.
         *
         * @param out the stream of the temporary file
         * @throws IOException when writing fails
         */
        void write(OutputStream out) throws IOException;
    }

    /**
     * Writes to a temporary file beside {@code target}, forces it to disk, then renames it over
     * {@code target}. On failure the temporary file is removed and {@code target} is untouched.
     *
     * @param target the file to replace
     * @param writer writes the content
     * @throws IOException when writing or renaming fails
     */
    public static void write(Path target, Writer writer) throws IOException {
        try (Pending p = open(target)) {
            writer.write(p.stream());
            p.commit();
        } catch (IOException e) {
            throw IoFailure.writing(target, e);
        }
    }

    /**
     * Starts a file that is written over time (a stream of unknown length, several files written
     * side by side) and published by {@link Pending#commit()} as {@link #write} publishes one.
     *
     * @param target the file to replace when committed
     * @return the pending file; closing it without a commit removes it and leaves {@code target}
     *     untouched
     * @throws IOException when the temporary file cannot be created
     */
    public static Pending open(Path target) throws IOException {
        Path tmp = null;
        try {
            Path dir = target.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            tmp = temp(dir, "." + target.getFileName());
            return new Pending(target, tmp, FileChannel.open(tmp, StandardOpenOption.WRITE));
        } catch (IOException e) {
            if (tmp != null) {
                Files.deleteIfExists(tmp);
                forget(tmp);
            }
            throw IoFailure.writing(target, e);
        }
    }

    /**
     * Checks, before anything is written, that no target is a folder (a rename over it would
     * fail part way through a set of files).
     *
     * @param targets the files to be written
     * @throws IOException naming the first target that is a folder
     */
    public static void notFolders(Path... targets) throws IOException {
        for (Path t : targets) {
            if (Files.isDirectory(t)) {
                throw IoFailure.writing(t, new java.nio.file.FileSystemException(t.toString(),
                        null, "Is a directory"));
            }
        }
    }

    /**
     * Makes a scratch file: a hidden temporary file in {@code dir}, for data too large for memory,
     * removed when closed (or when the command is stopped).
     *
     * @param dir the folder (created when missing)
     * @param name a name for it (the file is {@code .NAME*.tmp})
     * @return the scratch file, open for reading and writing
     * @throws IOException when it cannot be created
     */
    public static Scratch scratch(Path dir, String name) throws IOException {
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = temp(dir, "." + name);
            return new Scratch(tmp, FileChannel.open(tmp, StandardOpenOption.READ,
                    StandardOpenOption.WRITE));
        } catch (IOException e) {
            if (tmp != null) {
                Files.deleteIfExists(tmp);
                forget(tmp);
            }
            throw IoFailure.writing(dir.resolve("." + name + "...tmp"), e);
        }
    }

    /** A temporary file for data that does not fit in memory, removed when closed. */
    public static final class Scratch implements AutoCloseable {
        private final Path path;
        private final FileChannel channel;

        private Scratch(Path path, FileChannel channel) {
            this.path = path;
            this.channel = channel;
        }

        /** @return the file's channel, for reads and writes */
        public FileChannel channel() {
            return channel;
        }

        /** @return the file */
        public Path path() {
            return path;
        }

        /** Closes and removes the file. */
        @Override
        public void close() throws IOException {
            try {
                channel.close();
            } finally {
                Files.deleteIfExists(path);
                forget(path);
            }
        }
    }

    /**
     * A temporary file beside its target, written through {@link #stream()} (or {@link
     * #channel()} for writes at a position), then forced to disk and renamed over the target by
     * {@link #commit()}.
     */
    public static final class Pending implements AutoCloseable {

        private final Path target;
        private final Path tmp;
        private final FileChannel channel;
        private final java.io.BufferedOutputStream stream;
        private boolean done;

        private Pending(Path target, Path tmp, FileChannel channel) {
            this.target = target;
            this.tmp = tmp;
            this.channel = channel;
            this.stream = new java.io.BufferedOutputStream(new Named(target,
                    java.nio.channels.Channels.newOutputStream(channel)), 1 << 16);
        }

        /** @return a buffered stream that appends to the temporary file */
        public OutputStream stream() {
            return stream;
        }

        /**
         * @return the temporary file's channel, for writes at a position; flush {@link #stream()}
         *     before using it
         */
        public FileChannel channel() {
            return channel;
        }

        /** @return the file this one replaces when committed */
        public Path target() {
            return target;
        }

        /**
         * Flushes, forces the bytes to disk, makes the file readable by all (as results are meant
         * to be shared) and renames it over the target.
         *
         * @throws IOException when any of these fails (the target is then untouched)
         */
        public void commit() throws IOException {
            try {
                stream.flush();
                // The rename must never expose a file whose bytes are still only in the page
                // cache.
                channel.force(true);
                channel.close();
                // createTempFile makes the file private (0600); results are meant to be shared.
                try {
                    Files.setPosixFilePermissions(tmp,
                            java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
                } catch (UnsupportedOperationException e) {
                    // not a POSIX file system: keep its defaults
                }
                move(tmp, target);
            } catch (IOException e) {
                throw IoFailure.writing(target, e);
            }
            forget(tmp);
            done = true;
        }

        /** Removes the temporary file unless it was committed. */
        @Override
        public void close() throws IOException {
            if (!done) {
                try {
                    channel.close();
                } finally {
                    Files.deleteIfExists(tmp);
                    forget(tmp);
                }
            }
        }
    }

    /** A stream whose failures name the file it writes. */
    private static final class Named extends java.io.FilterOutputStream {
        private final Path target;

        Named(Path target, OutputStream out) {
            super(out);
            this.target = target;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            try {
                out.write(b, off, len);
            } catch (IOException e) {
                throw IoFailure.writing(target, e);
            }
        }

        @Override
        public void write(int b) throws IOException {
            try {
                out.write(b);
            } catch (IOException e) {
                throw IoFailure.writing(target, e);
            }
        }
    }

    /**
     * Makes {@code target} a hard link to {@code source}: the same bytes under a second name, with
     * nothing copied (a checkpoint's model and the stage model exported just before it, say).
     *
     * @param target the new name (must not exist)
     * @param source an existing file on the same file system
     * @return false when the file system cannot link (the caller then writes the file itself)
     */
    public static boolean link(Path target, Path source) {
        try {
            Files.createLink(target, source);
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /**
     * Writes a UTF-8 string atomically.
     *
     * @param target the file to replace
     * @param text the content
     * @throws IOException when writing fails
     */
    public static void writeString(Path target, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        write(target, out -> out.write(bytes));
    }

    /**
     * Renames {@code tmp} over {@code target}, atomically where the file system allows.
     *
     * @param tmp the finished temporary file
     * @param target the destination
     * @throws IOException when the rename fails
     */
    public static void move(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Forces a file's content to disk.
     *
     * @param file the file
     * @throws IOException when it cannot be synced
     */
    public static void fsync(Path file) throws IOException {
        try (var ch = FileChannel.open(file,
                StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
