package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.util.RepoPaths;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

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

    /**
     * {@code --ewc-exclude 'wte|wpe'}: the EWC state holds a Fisher and an anchor for each of the
     * other parameters and none for the embeddings. The tiny GPT-2 has 2 + 12 per block x 2
     * blocks + 2 (final LayerNorm) = 28 parameter tensors (the output layer is the token
     * embedding), so 26 are covered; a prior Fisher file of all 28 contributes those 26 only.
     */
    @Test
    void ewcExcludeLeavesThoseParametersOut() throws IOException {
        Path prior = tmp.resolve("prior.ndlist");
        CliTest.Run r = CliTest.run("fisher", "--model", CliTest.TINY, "--tokenizer",
                CliTest.TOK, "--domain", domain("legal").toString(), "--out", prior.toString(),
                "--fisher-samples", "2", "--seq-len", "16", "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        Path run = tmp.resolve("run");
        r = CliTest.run("train", "--model", CliTest.TINY, "--tokenizer", CliTest.TOK,
                "--domains", domain("computing").toString(), "--strategy", "ewc",
                "--ewc-prior", prior.toString(),
                "--ewc-exclude", "wte|wpe", "--out", run.toString(), "--max-steps-per-domain",
                "2", "--seq-len", "16", "--batch-size", "2", "--fisher-samples", "2", "--quiet",
                "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        Set<String> names = new HashSet<>();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch");
                InputStream in = Files.newInputStream(run.resolve("ewc-stage-0.ndlist"))) {
            for (NDArray a : NDList.decode(m, in)) {
                names.add(a.getName());
            }
        }
        assertEquals(52, names.size(), names.toString());
        for (String n : names) {
            assertFalse(n.contains("wte") || n.contains("wpe"), n);
        }
        assertTrue(names.contains("F:transformer.h.1.mlp.c_proj.weight"), names.toString());
        assertTrue(names.contains("theta*:transformer.ln_f.bias"), names.toString());

        CliTest.userError(CliTest.run("train", "--model", CliTest.TINY, "--tokenizer", CliTest.TOK,
                "--domains", domain("legal").toString(), "--strategy", "ewc", "--ewc-exclude",
                "(wte", "--out", tmp.resolve("bad").toString(), "--quiet", "--device", "cpu"),
                "ewc-exclude", "not a regular expression");
        CliTest.userError(CliTest.run("train", "--model", CliTest.TINY, "--tokenizer", CliTest.TOK,
                "--domains", domain("legal").toString(), "--strategy", "ewc", "--ewc-exclude",
                "transformer", "--out", tmp.resolve("all").toString(), "--quiet", "--device",
                "cpu", "--seq-len", "16", "--max-steps-per-domain", "1"), "transformer",
                "matches every parameter");
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
