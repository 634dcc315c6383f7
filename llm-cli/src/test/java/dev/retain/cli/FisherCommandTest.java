package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.util.RepoPaths;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code retain fisher}, and its file reused as {@code --ewc-prior}. */
class FisherCommandTest {

    @TempDir Path tmp;

    Path domain(String n) throws IOException {
        return TestDomains.cut(tmp, n, 4000, 4000);
    }

    @Test
    void fisherFileIsReusableAsEwcPrior() throws IOException {
        Path d = domain("computing");
        Path f = tmp.resolve("prior.ndlist");
        CliTest.Run r = CliTest.run("fisher", "--model", CliTest.TINY, "--tokenizer",
                CliTest.TOK, "--domain", d.toString(), "--out", f.toString(), "--fisher-samples",
                "3", "--seq-len", "16", "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.size(f) > 1000);
        Path run = tmp.resolve("run");
        r = CliTest.run("train", "--model", CliTest.TINY, "--tokenizer", CliTest.TOK, "--domains",
                domain("legal").toString(), "--strategy", "ewc", "--ewc-prior", f.toString(),
                "--out", run.toString(), "--max-steps-per-domain", "2", "--seq-len", "16",
                "--batch-size", "2", "--fisher-samples", "2", "--quiet", "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.exists(run.resolve("ewc-stage-0.ndlist")));
    }

    @Test
    void priorOfAnotherModelIsRefused() throws IOException {
        Path d = domain("computing");
        Path f = tmp.resolve("small.ndlist");
        assertEquals(0, CliTest.run("fisher", "--model", RepoPaths.resolve(
                "datasets/models/small/model.pt").toString(), "--tokenizer", CliTest.TOK,
                "--domain", d.toString(), "--out", f.toString(), "--fisher-samples", "1",
                "--seq-len", "8", "--device", "cpu").code());
        CliTest.userError(CliTest.run("train", "--model", CliTest.TINY, "--tokenizer", CliTest.TOK,
                "--domains", d.toString(), "--strategy", "ewc", "--ewc-prior", f.toString(),
                "--out", tmp.resolve("r").toString(), "--max-steps-per-domain", "1", "--quiet",
                "--seq-len", "8", "--device", "cpu"), "small.ndlist", "another model");
    }
}
