package dev.retain.train.plugin;

import dev.retain.core.util.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A plugin's state that changes only at domain ends (the drift map's anchor, LwF's teacher):
 * written once per domain to {@code RUN_DIR/checkpoints/FILE}, beside the checkpoints, and a hard
 * link to it in each checkpoint of that domain (a copy where the file system cannot link), so it
 * is stored and written once however many checkpoints the domain has.
 */
public final class DomainState {

    private DomainState() {}

    /**
     * Puts the state into a checkpoint being written.
     *
     * @param checkpoint the checkpoint's folder (inside {@code RUN_DIR/checkpoints})
     * @param file the state's file name
     * @param changed whether the state changed since it was last written (then it is written)
     * @param writer writes the state
     * @throws IOException when writing fails
     */
    public static void save(Path checkpoint, String file, boolean changed,
            AtomicFiles.Writer writer) throws IOException {
        Path shared = checkpoint.getParent().resolve(file);
        if (changed || !Files.isRegularFile(shared)) {
            AtomicFiles.write(shared, writer);
        }
        if (!AtomicFiles.link(checkpoint.resolve(file), shared)) {
            Files.copy(shared, checkpoint.resolve(file));
        }
    }

    /**
     * Makes the shared file hold a checkpoint's copy of the state, on resume: a hard link to it
     * (else a copy) put in place of whatever the shared file held, so the state outlives the
     * checkpoint's pruning.
     *
     * @param checkpoint the checkpoint's folder being resumed from
     * @param file the state's file name
     * @return the shared file
     * @throws IOException when it cannot be linked or copied
     */
    public static Path adopt(Path checkpoint, String file) throws IOException {
        Path shared = checkpoint.getParent().resolve(file);
        Path tmp = Files.createTempFile(checkpoint.getParent(), "." + file, ".tmp");
        Files.delete(tmp);
        if (!AtomicFiles.link(tmp, checkpoint.resolve(file))) {
            Files.copy(checkpoint.resolve(file), tmp);
        }
        AtomicFiles.move(tmp, shared);
        return shared;
    }

    /**
     * Removes the shared file when the state is gone (after the last domain); older checkpoints
     * keep their own links until they are pruned.
     *
     * @param checkpoint the checkpoint's folder being written
     * @param file the state's file name
     * @throws IOException when it cannot be removed
     */
    public static void drop(Path checkpoint, String file) throws IOException {
        Files.deleteIfExists(checkpoint.getParent().resolve(file));
    }
}
