package dev.retain.core.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Writes that fail leave nothing half-written and say so in one line naming the file; a stopped
 * command's temporary files are all removed.
 */
class AtomicFilesTest {

    @TempDir Path tmp;

    private List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aWriteThatFailsPartWayLeavesTheOldFileAndNamesIt() throws IOException {
        Path f = Files.writeString(tmp.resolve("report.json"), "old");
        // What a full disk does part way: the first bytes go, then the system refuses.
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(f, out -> {
            out.write(new byte[100_000]);
            throw new IOException("No space left on device");
        }));
        assertEquals(f + ": cannot write (No space left on device); free some disk space or"
                + " write elsewhere; nothing half-written is left", e.getMessage());
        assertEquals("old", Files.readString(f));
        assertEquals(List.of("report.json"), names(tmp), "no temporary file left");
        assertEquals(e.getMessage(), IoFailure.describe(e));
    }

    @Test
    void aFileWhereAFolderGoesAndAFolderWhereAFileGoes() throws IOException {
        Path file = Files.writeString(tmp.resolve("afile"), "x");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.writeString(
                file.resolve("sub").resolve("out.json"), "{}"));
        assertTrue(e.getMessage().startsWith(file.resolve("sub").resolve("out.json")
                + ": cannot write ("), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        Path dir = Files.createDirectories(tmp.resolve("out.json"));
        Files.writeString(dir.resolve("inside"), "y");
        e = assertThrows(IOException.class, () -> AtomicFiles.writeString(dir, "{}"));
        assertEquals(dir + ": cannot write (Is a directory); a folder stands where the file goes:"
                + " move it away or write elsewhere; nothing half-written is left",
                e.getMessage());
        assertEquals(List.of("afile", "out.json"), names(tmp));
    }

    @Test
    void theSystemsReasonsReadAsOneLine() {
        assertEquals("/x/y: permission denied; choose a place you can write, or change its"
                + " permissions", IoFailure.describe(new java.nio.file.AccessDeniedException(
                        "/x/y")));
        assertEquals("/x/y: Read-only file system; the file system is read-only: write"
                + " elsewhere", IoFailure.describe(new java.nio.file.FileSystemException("/x/y",
                        null, "Read-only file system")));
        assertEquals("/x/y: no such file or folder", IoFailure.describe(
                new java.nio.file.NoSuchFileException("/x/y")));
    }
}
