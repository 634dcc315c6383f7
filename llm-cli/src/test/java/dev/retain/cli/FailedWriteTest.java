package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * A write that fails is one line naming the file, exit 2, and leaves nothing of this run's files
 * (not an internal error): export and report where a folder stands in a file's place, and the
 * disk's own reasons through the same path (AtomicFilesTest); a damaged run.json is one line.
 */
class FailedWriteTest {

    @TempDir Path tmp;

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void exportWhereAFolderStandsInAFilesPlace() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("ex"));
        Files.createDirectories(out.resolve("config.json").resolve("x"));
        CliTest.userError(CliTest.run("export", CliTest.TINY, "--tokenizer", CliTest.TOK,
                "--out", out.toString(), "--format", "both"), out.resolve("config.json")
                + ": cannot write (Is a directory); a folder stands where the file goes: move it"
                + " away or write elsewhere; nothing half-written is left");
        assertEquals(List.of("config.json"), names(out), "nothing written, nothing hidden left");
    }

    @Test
    void reportWhereAFolderStandsInAFilesPlace() throws IOException {
        Path run = Path.of(CliTest.repo("llm-eval/src/test/resources/runs/naive"));
        Path out = Files.createDirectories(tmp.resolve("rep"));
        Files.createDirectories(out.resolve("report.html").resolve("x"));
        CliTest.userError(CliTest.run("report", run.toString(), "--out", out.toString()),
                out.resolve("report.html") + ": cannot write (Is a directory)");
        assertEquals(List.of("report.html"), names(out), "none of the four files published");
    }

    @Test
    void aDamagedRunDescriptionIsOneLine() throws IOException {
        Path run = Files.createDirectories(tmp.resolve("run"));
        Files.writeString(run.resolve("run.json"), "{\"schema\": garbage");
        CliTest.userError(CliTest.run("train", "--resume", run.toString()), run.resolve(
                "run.json") + ": unreadable run description (Unrecognized token 'garbage': was"
                + " expecting (JSON String, Number, Array, Object or token 'null', 'true' or"
                + " 'false') at line 1, column 19); the run folder is damaged");
        Files.writeString(run.resolve("run.json"), "{\"name\": \"x\"}");
        CliTest.userError(CliTest.run("train", "--resume", run.toString()), run.resolve(
                "run.json") + ": lacks 'domains'");
    }
}
