package dev.retain.core.text;

import dev.retain.core.UserError;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * A folder of documents as a source reads it: which files are its documents, in which order, and
 * the one rule for symbolic links (followed, to files and folders alike).
 */
final class DocumentFolder {

    private DocumentFolder() {}

    /**
     * The documents of a folder: its {@code .txt} and {@code .md} files, in sub-folders too,
     * sorted by relative path ({@code /}-separated, compared as Java strings); names starting
     * with a dot (and what is inside such folders) are left out. Symbolic links are followed,
     * to files and to folders alike (a document's relative path is the link's); a link that
     * leads nowhere, a loop of links, or a document name that is not a file (a named pipe, a
     * device) is refused with one line naming it.
     *
     * @param dir the folder
     * @return the files
     * @throws IOException when the folder cannot be listed
     * @throws UserError for a broken link, a loop or a document that is not a file
     */
    static List<Path> files(Path dir) throws IOException {
        List<Path> docs = new ArrayList<>();
        try (Stream<Path> all = Files.walk(dir, FileVisitOption.FOLLOW_LINKS)) {
            for (Path f : (Iterable<Path>) all::iterator) {
                String rel = relative(dir, f);
                String lower = rel.toLowerCase(Locale.ROOT);
                if (!(lower.endsWith(".txt") || lower.endsWith(".md")) || rel.startsWith(".")
                        || rel.contains("/.") || Files.isDirectory(f)) {
                    continue;
                }
                if (!Files.isRegularFile(f)) {
                    throw new UserError(f + ": " + (Files.isSymbolicLink(f) && !Files.exists(f)
                            ? "a link to " + Files.readSymbolicLink(f) + ", which does not exist"
                            : notAFile(f) + ", not a file") + "; a document folder holds"
                            + " files (links are followed): remove it or make it one");
                }
                docs.add(f);
            }
        } catch (UncheckedIOException e) {
            if (e.getCause() instanceof FileSystemLoopException loop) {
                throw new UserError(loop.getFile() + ": a link that leads back into the folder"
                        + " it is in (a loop); remove the link", loop);
            }
            throw e.getCause();
        }
        docs.sort((a, b) -> relative(dir, a).compareTo(relative(dir, b)));
        return docs;
    }

    /** @return what a path that is neither a file nor a folder is, e.g. {@code a named pipe} */
    static String notAFile(Path p) {
        try {
            int type = (Integer) Files.getAttribute(p, "unix:mode") & 0170000;
            return type == 0010000 ? "a named pipe (FIFO)" : type == 0140000 ? "a socket"
                    : type == 0020000 || type == 0060000 ? "a device" : "not a regular file";
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "not a regular file";
        }
    }

    static String relative(Path dir, Path f) {
        return dir.relativize(f).toString().replace(f.getFileSystem().getSeparator(), "/");
    }
}
