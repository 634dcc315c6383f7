package dev.retain.core.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.retain.core.UserError;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Which files a source reads: a named pipe is refused (it would block, and a source is read
 * twice), and a document folder follows symbolic links, to files and folders alike, refusing a
 * broken link, a loop, or a document name that is not a file, each in one line.
 */
class SourceFilesTest {

    @TempDir Path tmp;

    private static void mkfifo(Path p) throws Exception {
        Process m;
        try {
            m = new ProcessBuilder("mkfifo", p.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            m = null;
        }
        assumeTrue(m != null && m.waitFor(30, TimeUnit.SECONDS) && m.exitValue() == 0,
                "mkfifo is not available here");
    }

    private static String error(Path src) {
        UserError e = assertThrows(UserError.class, () -> DomainSource.of(src,
                SourceOptions.defaults()).prepare(src.getParent().resolve("out"), false));
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void aNamedPipeIsRefusedNotReadForever() throws Exception {
        Path fifo = tmp.resolve("news.jsonl");
        mkfifo(fifo);
        assertEquals(fifo + ": a named pipe (FIFO), not a file; a source is read twice (its"
                + " SHA-256, then its documents), so save it to a file first", error(fifo));
        Path dir = Files.createDirectories(tmp.resolve("docs"));
        Files.writeString(dir.resolve("a.txt"), "a document");
        mkfifo(dir.resolve("b.md"));
        assertEquals(dir.resolve("b.md") + ": a named pipe (FIFO), not a file; a document folder"
                + " holds files (links are followed): remove it or make it one", error(dir));
    }

    @Test
    void linksToFilesAndFoldersAreFollowedBrokenLinksAndLoopsRefused() throws Exception {
        Path other = Files.createDirectories(tmp.resolve("elsewhere"));
        Files.writeString(other.resolve("x.txt"), "in a linked folder");
        Files.writeString(tmp.resolve("single.md"), "a linked file");
        Path dir = Files.createDirectories(tmp.resolve("docs"));
        Files.writeString(dir.resolve("a.txt"), "a document");
        Files.createSymbolicLink(dir.resolve("b-linked.md"), tmp.resolve("single.md"));
        Files.createSymbolicLink(dir.resolve("c-folder"), other);
        assertEquals(List.of(dir.resolve("a.txt"), dir.resolve("b-linked.md"),
                dir.resolve("c-folder/x.txt")), DocumentFolder.files(dir));
        // The fingerprint follows the content: a change behind a link is a changed source.
        String before = DomainSource.fingerprint(dir);
        Files.writeString(other.resolve("x.txt"), "changed behind the link");
        assertTrue(!before.equals(DomainSource.fingerprint(dir)));

        Path broken = Files.createSymbolicLink(dir.resolve("d.txt"), tmp.resolve("gone.txt"));
        assertEquals(broken + ": a link to " + tmp.resolve("gone.txt") + ", which does not"
                + " exist; a document folder holds files (links are followed): remove it or"
                + " make it one", error(dir));
        Files.delete(broken);
        Path loop = Files.createSymbolicLink(other.resolve("back"), dir);
        assertEquals(dir.resolve("c-folder/back") + ": a link that leads back into the folder it"
                + " is in (a loop); remove the link", error(dir));
        Files.delete(loop);
    }
}
