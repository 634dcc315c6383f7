package dev.retain.core.util;

import dev.retain.core.UserError;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An exclusive lock on a folder for the one process that writes it (a run, an experiment's
 * output), held until {@link #close()}: an operating-system lock on {@code DIR/.lock}, which also
 * holds the holder's process id. The system releases it when the process dies, so a lock file
 * left by a killed process is simply taken over (with a note on stderr).
 */
public final class RunLock implements AutoCloseable {

    /** The lock file's name inside the folder. */
    public static final String FILE = ".lock";

    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock on a folder (created when missing).
     *
     * @param dir the folder
     * @param what what the folder is, for the message (e.g. {@code run folder})
     * @return the held lock
     * @throws UserError when another process (or another run in this one) holds it
     */
    public static RunLock acquire(Path dir, String what) {
        Path file = dir.resolve(FILE);
        FileChannel ch = null;
        try {
            Files.createDirectories(dir);
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                l = null; // held by this very process
            }
            if (l == null) {
                String holder = holder(ch);
                ch.close();
                throw new UserError(dir + ": this " + what + " is being written by another"
                        + " process (" + holder + "); wait for it to end or stop it, or choose"
                        + " another folder");
            }
            String previous = holder(ch);
            if (!previous.equals("unknown process")) {
                System.err.println("retain: " + dir + ": took over a lock left by " + previous
                        + ", which is no longer running");
            }
            byte[] pid = String.valueOf(ProcessHandle.current().pid())
                    .getBytes(StandardCharsets.US_ASCII);
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(pid), 0);
            ch.force(false);
            return new RunLock(ch, l);
        } catch (IOException e) {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // the lock was not taken; nothing else to release
                }
            }
            throw new UserError(dir + ": cannot lock the " + what + " (" + e.getMessage()
                    + "); check that the folder is writable", e);
        }
    }

    /**
     * Who holds a folder's lock now, without taking it (for listings). Not for a folder that
     * this process has locked: closing the probe's channel may release the process's lock (the
     * system's locks belong to the process, not to a channel).
     *
     * @param dir the folder
     * @return {@code process N} (or {@code this process}) when held, else null
     */
    public static String heldBy(Path dir) {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                return "this process";
            }
            if (l != null) {
                l.release();
                return null;
            }
            return holder(ch);
        } catch (IOException e) {
            return null; // unreadable: nobody can be writing through it either
        }
    }

    private static String holder(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(32);
        int n = ch.read(b, 0);
        String pid = n <= 0 ? "" : new String(b.array(), 0, n, StandardCharsets.US_ASCII).trim();
        return pid.matches("[0-9]+") ? "process " + pid : "unknown process";
    }

    /** Releases the lock; the file stays, empty, for the next holder. */
    @Override
    public void close() {
        try {
            channel.truncate(0);
            lock.release();
            channel.close();
        } catch (IOException e) {
            // the system releases the lock when the channel or the process goes
        }
    }
}
