package dev.retain.core.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * What a stopped command leaves: every temporary file and folder made through TemporaryFiles (AtomicFiles makes its own there) is
 * removed, published files stay, and no new temporary file can be made afterwards. Runs in a
 * JVM of its own (the removal is for a process that ends).
 */
class StopCleanupTest {

    @TempDir Path tmp;

    /** The child: makes pending files, publishes one, removes the rest, tries one more. */
    public static final class Child {
        /**
         * @param a the folder
         * @throws IOException when a file cannot be made
         */
        public static void main(String[] a) throws IOException {
            Path dir = Path.of(a[0]);
            AtomicFiles.writeString(dir.resolve("done.json"), "{}");
            AtomicFiles.Pending p = AtomicFiles.open(dir.resolve("train.tok"));
            p.stream().write(new byte[1000]);
            p.stream().flush();
            TemporaryFiles.scratch(dir, "document");
            Path stage = TemporaryFiles.folder(dir, "export-");
            Files.writeString(stage.resolve("model.safetensors"), "x");
            System.out.println("removed " + TemporaryFiles.removeAll());
            try {
                AtomicFiles.open(dir.resolve("late.json"));
                System.out.println("late file made");
            } catch (IOException e) {
                System.out.println("late file refused");
            }
        }
    }

    @Test
    void removesEveryTemporaryFileAndKeepsWhatWasPublished() throws Exception {
        Process p = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                "-cp", System.getProperty("java.class.path"), Child.class.getName(),
                tmp.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertEquals(0, p.waitFor(), out);
        assertEquals("removed 3\nlate file refused", out);
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of("done.json"), s.map(x -> x.getFileName().toString()).toList());
        }
        assertThrows(IOException.class, () -> Files.readString(tmp.resolve("train.tok")));
    }
}
