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

/**
 * Writes files so that a reader sees the old content or the new, never half of the new. Its
 * temporary files are made through {@link TemporaryFiles}, so that a command stopped by a signal
 * removes them all and leaves nothing half-written behind.
 */
public final class AtomicFiles {

    private AtomicFiles() {}

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
            tmp = TemporaryFiles.file(dir, target.getFileName().toString());
            return new Pending(target, tmp, FileChannel.open(tmp, StandardOpenOption.WRITE));
        } catch (IOException e) {
            if (tmp != null) {
                TemporaryFiles.remove(tmp);
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

        /** @return the temporary file being written (renamed to {@link #target()} at commit) */
        public Path file() {
            return tmp;
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
            TemporaryFiles.published(tmp);
            done = true;
        }

        /** Removes the temporary file unless it was committed. */
        @Override
        public void close() throws IOException {
            if (!done) {
                try {
                    channel.close();
                } finally {
                    TemporaryFiles.remove(tmp);
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
