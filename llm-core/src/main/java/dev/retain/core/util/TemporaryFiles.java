package dev.retain.core.util;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The temporary files and folders of this process, known from the moment they are made until they
 * are published (renamed to their target) or removed, so that a command stopped by a signal
 * removes them all ({@link #removeAll}). Every file retain writes goes through here ({@link
 * AtomicFiles}, scratch files, export's staging folder): none is left half-written by a signal.
 * Names are hidden ({@code .NAME*.tmp}) and never taken for results.
 */
public final class TemporaryFiles {

    /** Made and not yet published or removed. */
    private static final Set<Path> LIVE = ConcurrentHashMap.newKeySet();
    private static volatile boolean stopping;

    private TemporaryFiles() {}

    /**
     * Removes every temporary file and folder not yet published or removed, and refuses new ones:
     * for a command that is being stopped by a signal (its work is abandoned).
     *
     * @return how many files were removed
     */
    public static synchronized int removeAll() {
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

    /**
     * Makes an empty temporary file, {@code dir/.NAME*.tmp}.
     *
     * @param dir the folder (it exists)
     * @param name the name it stands for
     * @return the file
     * @throws IOException when it cannot be made, or the command is being stopped
     */
    public static synchronized Path file(Path dir, String name) throws IOException {
        refuseWhenStopping();
        Path tmp = Files.createTempFile(dir, "." + name, ".tmp");
        LIVE.add(tmp);
        return tmp;
    }

    /**
     * Makes a hidden temporary folder ({@code dir/.PREFIX*}): files are written in it, then
     * renamed out; removed with what is in it by {@link #remove} or when the command is stopped.
     *
     * @param dir the folder to make it in
     * @param prefix the start of its name
     * @return the folder
     * @throws IOException when it cannot be made, or the command is being stopped
     */
    public static synchronized Path folder(Path dir, String prefix) throws IOException {
        refuseWhenStopping();
        Path tmp = Files.createTempDirectory(dir, "." + prefix);
        LIVE.add(tmp);
        return tmp;
    }

    private static void refuseWhenStopping() throws IOException {
        if (stopping) {
            throw new IOException("the command is being stopped");
        }
    }

    /**
     * Removes a temporary file or folder (what is inside a folder too).
     *
     * @param tmp the file or folder
     * @throws IOException when it cannot be removed
     */
    public static void remove(Path tmp) throws IOException {
        try {
            delete(tmp);
        } finally {
            LIVE.remove(tmp);
        }
    }

    /**
     * Forgets a temporary file that was renamed to its target.
     *
     * @param tmp the file
     */
    public static void published(Path tmp) {
        LIVE.remove(tmp);
    }

    /** Deletes a file, or a folder and what is in it; @return how many files were there */
    private static int delete(Path p) throws IOException {
        if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            return Files.deleteIfExists(p) ? 1 : 0;
        }
        int n = 0;
        try (Stream<Path> all = Files.walk(p)) {
            for (Path f : all.sorted(Comparator.reverseOrder()).toList()) {
                n += Files.deleteIfExists(f) && !f.equals(p) ? 1 : 0;
            }
        }
        return Math.max(n, 1);
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
            tmp = file(dir, name);
            return new Scratch(tmp, FileChannel.open(tmp, StandardOpenOption.READ,
                    StandardOpenOption.WRITE));
        } catch (IOException e) {
            if (tmp != null) {
                remove(tmp);
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
                remove(path);
            }
        }
    }
}
