package dev.retain.core.util;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * I/O failures as one line a user can act on: which file, what the system said (no space,
 * read-only, permission, a file where a folder goes), and what to do. A failure to write is the
 * disk's, not the program's: commands report it as bad input (exit 2), never as an internal
 * error.
 */
public final class IoFailure {

    private IoFailure() {}

    /**
     * An exception for a write that failed, naming the file: {@code PATH: cannot write
     * (REASON); ...}. Nothing half-written is left by {@link AtomicFiles}, and the message says
     * so.
     *
     * @param file the file being written
     * @param e what failed
     * @return the exception to throw (its cause is {@code e})
     */
    public static IOException writing(Path file, IOException e) {
        if (e instanceof Named n) {
            if (n.file.equals(file)) {
                return e;
            }
            e = (IOException) n.getCause(); // a temporary name: say the file's own
        }
        return new Named(file, file + ": cannot write (" + reason(e) + ")" + advice(e)
                + "; nothing half-written is left", e);
    }

    /**
     * One line for any I/O failure.
     *
     * @param e the failure
     * @return the line, without a trailing period
     */
    public static String describe(IOException e) {
        if (e instanceof Named) {
            return e.getMessage();
        }
        if (e instanceof FileSystemException f && f.getFile() != null) {
            return f.getFile() + (f.getOtherFile() != null ? " -> " + f.getOtherFile() : "")
                    + ": " + reason(e) + advice(e);
        }
        return reason(e) + advice(e);
    }

    /**
     * What the system said, without the file name Java puts in front.
     *
     * @param e the failure
     * @return e.g. {@code No space left on device}, {@code permission denied}
     */
    public static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or folder";
        }
        if (e instanceof NotDirectoryException) {
            return "not a folder";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "already exists";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "a folder that is not empty stands there";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m.split("\n")[0];
    }

    private static String advice(IOException e) {
        String r = reason(e).toLowerCase(Locale.ROOT);
        if (r.contains("no space") || r.contains("quota")) {
            return "; free some disk space or write elsewhere";
        }
        if (r.contains("read-only")) {
            return "; the file system is read-only: write elsewhere";
        }
        if (r.contains("permission") || r.contains("not permitted")) {
            return "; choose a place you can write, or change its permissions";
        }
        if (r.contains("folder that is not empty") || r.contains("is a directory")) {
            return "; a folder stands where the file goes: move it away or write elsewhere";
        }
        if (r.contains("not a directory") || r.contains("not a folder")) {
            return "; a file stands where a folder is needed: move it or choose another path";
        }
        return "";
    }

    /** A failure whose message is already the one line. */
    private static final class Named extends IOException {
        private static final long serialVersionUID = 1L;
        private final transient Path file;

        Named(Path file, String message, IOException cause) {
            super(message, cause);
            this.file = file;
        }
    }
}
