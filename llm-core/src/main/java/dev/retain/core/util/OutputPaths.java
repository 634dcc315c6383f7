package dev.retain.core.util;

import dev.retain.core.UserError;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checks where a command will write before it starts working, so that a wrong path is one line
 * naming the option (exit 2) instead of a failure after minutes of work: an output folder must
 * not be a file and must be creatable and writable; an output file must not be a folder and its
 * folder must be writable. Nothing is written but an empty folder and a probe file, deleted
 * again.
 */
public final class OutputPaths {

    private OutputPaths() {}

    /**
     * Checks an output folder, creating it (and its parents) when missing.
     *
     * @param dir the folder
     * @param option the option that named it, for the message (e.g. {@code --out})
     * @return {@code dir}
     * @throws UserError when it is a file, cannot be created or cannot be written
     */
    public static Path folder(Path dir, String option) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new UserError(option + " " + dir + ": is a file, not a folder; give a folder"
                    + " (it is created when missing)");
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UserError(option + " " + dir + ": cannot create this folder (" + why(e)
                    + "); choose a folder you can write", e);
        }
        try {
            Files.delete(Files.createTempFile(dir, ".retain-write-test", ".tmp"));
        } catch (IOException e) {
            throw new UserError(option + " " + dir + ": cannot write in this folder (" + why(e)
                    + "); choose a folder you can write", e);
        }
        return dir;
    }

    /**
     * Checks an output file: not a folder, its folder writable (created when missing), the file
     * itself writable when it exists.
     *
     * @param file the file
     * @param option the option that named it (e.g. {@code --json})
     * @return {@code file}
     * @throws UserError when it cannot be written
     */
    public static Path file(Path file, String option) {
        if (Files.isDirectory(file)) {
            throw new UserError(option + " " + file + ": is a folder; give a file name, e.g. "
                    + file.resolve("out.json"));
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            folder(parent, option + " (its folder)");
        }
        if (Files.exists(file) && !Files.isWritable(file)) {
            throw new UserError(option + " " + file + ": exists and cannot be written; choose"
                    + " another file");
        }
        return file;
    }

    /**
     * After a failed write: removes a folder that {@link #folder} made for it when it is still
     * empty, so that a failure leaves nothing behind, not even an empty folder.
     *
     * @param dir the folder
     * @param existed whether it was there before the command
     */
    public static void removeIfMadeAndEmpty(Path dir, boolean existed) {
        if (existed) {
            return;
        }
        try {
            Files.deleteIfExists(dir); // fails when not empty: then it holds something
        } catch (IOException e) {
            // not empty, or not removable: left as it is
        }
    }

    private static String why(IOException e) {
        return IoFailure.reason(e);
    }
}
