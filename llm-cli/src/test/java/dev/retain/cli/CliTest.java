package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.retain.core.util.RepoPaths;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.commons.cli.Option;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The command line: results, help, and one clear line with exit code 2 for each bad input. */
class CliTest {

    @TempDir Path tmp;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8),
                err.toString(StandardCharsets.UTF_8));
    }

    static String repo(String p) {
        return RepoPaths.resolve(p).toString();
    }

    static final String TINY = repo("datasets/models/tiny/model.pt");
    static final String TOK = repo("datasets/tokenizers/gpt2/tokenizer.json");

    /** Asserts exit code 2 with exactly one line on stderr that contains every fragment. */
    static void userError(Run r, String... fragments) {
        assertEquals(2, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, "one line, no stack trace: " + r.err());
        for (String f : fragments) {
            assertTrue(lines[0].contains(f), "'" + f + "' in: " + lines[0]);
        }
    }

    private Path domain(String name, String test) throws IOException {
        Path d = tmp.resolve(name);
        Files.createDirectories(d);
        Files.writeString(d.resolve("train.txt"), "some training text");
        Files.writeString(d.resolve("valid.txt"), "some validation text");
        Files.writeString(d.resolve("test.txt"), test);
        return d;
    }

    @Test
    void evalPrintsTableAndWritesJson() throws IOException {
        Path d = domain("news", ("The quick brown fox jumps over the lazy dog. ".repeat(20)).strip());
        Path json = tmp.resolve("out/e.json");
        Run r = run("eval", "--model", TINY, "--tokenizer", TOK, "--domains", d.toString(),
                "--json", json.toString(), "--quiet");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("perplexity") && r.out().contains("news"), r.out());
        JsonNode j = new ObjectMapper().readTree(json.toFile());
        assertEquals("retain.eval/1", j.get("schema").asText());
        JsonNode res = j.get("results").get(0);
        assertEquals("news", res.get("domain").asText());
        // 20 repeats of 10 tokens = 200 tokens; windows of 64: 64+64+64+8 -> 63*3 + 7 predicted.
        assertEquals(200, res.get("tokens").asLong());
        assertEquals(196, res.get("predicted").asLong());
        assertEquals(Math.exp(res.get("mean_nll").asDouble()), res.get("perplexity").asDouble(),
                1e-9 * res.get("perplexity").asDouble());
    }

    @Test
    void infoDescribesTheModel() {
        Run r = run("info", TINY);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("1,635,744"), r.out());
        assertTrue(r.out().contains("context      64 tokens"), r.out());
        assertTrue(r.out().contains("output       logits"), r.out());
    }

    /** Help text with every run of white space (line wraps, indentation) made one space. */
    private static String flat(String s) {
        return s.replaceAll("\\s+", " ");
    }

    @Test
    void everyOptionInHelpStatesItsDefaultOrIsRequired() {
        // Every subcommand retain --help lists is checked, not only the ones this test knows.
        Run top = run("--help");
        assertEquals(0, top.code());
        List<String> listed = new ArrayList<>();
        for (String line : top.out().split("\n")) {
            if (line.startsWith("  ") && !line.isBlank()) {
                listed.add(line.strip().split("\\s+")[0]);
            }
        }
        assertEquals(List.of("info", "prepare", "eval", "train", "run", "demo", "report",
                "fisher", "classic", "bench", "export", "import", "generate", "forgotten",
                "plateaus"), listed, top.out());
        assertEquals(listed, new ArrayList<>(Main.commands().keySet()));
        int flags = 0;
        for (String name : listed) {
            Command c = Main.commands().get(name);
            Run r = run(name, "--help");
            assertEquals(0, r.code());
            String help = flat(r.out());
            for (Option o : c.options().getOptions()) {
                String d = o.getDescription();
                String what = name + " --" + o.getLongOpt() + ": " + d;
                if (o.hasArg()) {
                    assertTrue(d.contains("(default: ") || d.contains("required"), what);
                    assertFalse(d.contains("(default: )"), what);
                    assertTrue(help.contains("--" + o.getLongOpt() + " <" + o.getArgName() + ">"),
                            what);
                } else {
                    flags++;
                    assertTrue(d.endsWith("(default: off)"), what);
                    assertTrue(help.contains("--" + o.getLongOpt() + " "), what);
                }
                assertTrue(help.contains(flat(d)), "printed in help: " + what);
            }
        }
        // At least: info --params; --quiet of eval, train, run, demo, classic and bench; demo
        // --quick; train --decay-all and --fisher-batched; fisher --fisher-batched.
        assertTrue(flags >= 11, "flags checked: " + flags);
    }

    @Test
    void settingsHelpNamesFilesAndChoices() {
        String train = flat(run("train", "--help").out());
        assertTrue(train.contains("--ewc-prior <FILE>"), train);
        assertTrue(train.contains("protects from the first domain on (default: none)"), train);
        assertTrue(train.contains("--fisher-mode <empirical|sampled>"), train);
        String fisher = flat(run("fisher", "--help").out());
        assertTrue(fisher.contains("--fisher-mode <empirical|sampled>"), fisher);
        assertTrue(fisher.contains("--fisher-samples <N>"), fisher);
        assertTrue(fisher.contains("--batch-size <N>"), fisher);
        assertTrue(fisher.contains("--fisher-batched "), fisher);
        assertFalse(fisher.contains("<X>"), fisher);
        assertFalse(fisher.contains("replayed"), fisher);
        assertTrue(flat(run("info", "--help").out()).contains("--params list every parameter"
                + " tensor with its shape (default: off)"));
    }

    @Test
    void missingModel() {
        userError(run("eval", "--model", tmp.resolve("no.pt").toString(), "--tokenizer", TOK,
                "--domains", tmp.toString()), "no.pt", "not found");
    }

    @Test
    void notTorchScript() throws IOException {
        Path f = tmp.resolve("notes.pt");
        Files.writeString(f, "hello");
        userError(run("info", f.toString()), "notes.pt", "not a TorchScript file");
    }

    @Test
    void truncatedModel() throws IOException {
        byte[] all = Files.readAllBytes(Path.of(TINY));
        Path f = tmp.resolve("cut.pt");
        Files.write(f, Arrays.copyOf(all, all.length - 5000));
        userError(run("info", f.toString()), "cut.pt", "truncated or corrupt");
    }

    /** A copy of the tiny model that nobody may read (mode 000). */
    private Path lockedModel() throws IOException {
        Path f = tmp.resolve("locked.pt");
        Files.copy(Path.of(TINY), f);
        assertTrue(f.toFile().setReadable(false, false) && f.toFile().setWritable(false, false));
        return f;
    }

    @Test
    void unreadableModel() throws IOException {
        Path f = lockedModel();
        assumeFalse(Files.isReadable(f), "running as root: file permissions do not bind here;"
                + " unreadableModelForRootWithoutFileCapabilities covers it");
        userError(run("info", f.toString()), "locked.pt", "not readable", "permissions");
    }

    /**
     * The same bad input where the tests run as root (as CI does): root reads any file through
     * the capabilities CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, so the command runs in a child
     * JVM from which {@code setpriv} has dropped just those two. Still uid 0, it reads its own
     * class path but not a mode-000 file, so the real permission check is what fails.
     */
    @Test
    void unreadableModelForRootWithoutFileCapabilities() throws Exception {
        Path f = lockedModel();
        assumeTrue(Files.isReadable(f), "not root: unreadableModel covers it");
        userError(runWithoutFileCapabilities(f, "info", f.toString()), "locked.pt",
                "not readable", "permissions");
    }

    /**
     * Runs a command where the tests run as root (as CI does) as an ordinary user would meet file
     * permissions: root reads and writes any file through the capabilities CAP_DAC_OVERRIDE and
     * CAP_DAC_READ_SEARCH, so the command runs in a child JVM from which {@code setpriv} has
     * dropped just those two. Still uid 0, it reads its own class path, but not a mode-000 file,
     * and cannot write in a mode-555 folder, so the real permission check is what fails. Skipped
     * (assumption) where the capabilities cannot be dropped.
     *
     * @param probe a file or folder that the child must not be able to read or list
     * @param args the command line
     * @return the child's exit code and stderr
     */
    static Run runWithoutFileCapabilities(Path probe, String... args) throws Exception {
        List<String> setpriv = List.of("setpriv", "--bounding-set=-dac_override,-dac_read_search");
        Process check = new ProcessBuilder(concat(setpriv, List.of(Files.isDirectory(probe)
                ? "touch" : "cat", Files.isDirectory(probe) ? probe.resolve("probe").toString()
                        : probe.toString()))).redirectErrorStream(true).start();
        String checkText = new String(check.getInputStream().readAllBytes(),
                StandardCharsets.UTF_8);
        assertTrue(check.waitFor(60, TimeUnit.SECONDS));
        assumeTrue(checkText.contains("Permission denied"),
                "cannot drop root's file capabilities here (setpriv missing or not permitted): "
                        + checkText.strip());
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(java.toString(),
                "-cp", System.getProperty("java.class.path"), "-Dai.djl.offline=true",
                "-Dretain.repo=" + RepoPaths.resolve("."), Main.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(concat(setpriv, cmd));
        pb.environment().put("DJL_OFFLINE", "true");
        Process p = pb.start();
        p.getOutputStream().close();
        Thread outReader = new Thread(() -> {
            try {
                p.getInputStream().readAllBytes();
            } catch (IOException e) {
                // the process ended; nothing to read
            }
        });
        outReader.start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        outReader.join();
        return new Run(p.exitValue(), "", err);
    }

    @Test
    void outputPathsAreCheckedBeforeAnyWork() throws Exception {
        Path file = tmp.resolve("afile");
        Files.writeString(file, "x");
        String[] train = {"train", "--model", TINY, "--tokenizer", TOK, "--domains",
            repo("datasets/domains/computing"), "--quiet", "--out"};
        userError(run(concat(List.of(train), List.of(file.toString())).toArray(String[]::new)),
                "--out " + file + ": is a file, not a folder");
        userError(run(concat(List.of(train), List.of(file.resolve("sub").toString()))
                .toArray(String[]::new)), "--out " + file.resolve("sub")
                + ": cannot create this folder");
        userError(run("eval", "--model", TINY, "--tokenizer", TOK, "--domains",
                repo("datasets/domains/computing"), "--json", tmp.toString(), "--quiet"),
                "--json " + tmp + ": is a folder; give a file name");
        userError(run("report", repo("llm-eval/src/test/resources/runs/classifier-ewc"), "--out",
                file.toString()), "--out " + file + ": is a file");
        Path readOnly = Files.createDirectory(tmp.resolve("read-only"));
        assertTrue(readOnly.toFile().setWritable(false, false));
        String[] ro = concat(List.of(train), List.of(readOnly.resolve("run").toString()))
                .toArray(String[]::new);
        Run r = Files.isWritable(readOnly) ? runWithoutFileCapabilities(readOnly, ro) : run(ro);
        userError(r, "--out " + readOnly.resolve("run") + ": cannot create this folder"
                + " (permission denied)");
        assertFalse(Files.exists(readOnly.resolve("run")));
    }

    @Test
    void aBatchTooLargeForTheMachineIsRefusedBeforeAllocation() {
        userError(run("train", "--model", TINY, "--tokenizer", TOK, "--domains",
                repo("datasets/domains/computing"), "--quiet", "--seq-len", "32", "--batch-size",
                "60000", "--out", tmp.resolve("run").toString()),
                "--batch-size 60000 with windows of 32 tokens is 1,920,000 tokens a"
                        + " micro-batch", "more than this machine's");
        // a number no batch could be is refused by the setting's range, before the model loads
        userError(run("train", "--model", TINY, "--tokenizer", TOK, "--domains",
                repo("datasets/domains/computing"), "--quiet", "--batch-size", "99999999",
                "--out", tmp.resolve("run").toString()),
                "--batch-size 99999999 must be at most 65536 windows");
    }

    @Test
    void aDivergingRunExitsWithThreeAndOneLine() throws IOException {
        Run r = run("train", "--model", TINY, "--tokenizer", TOK, "--domains",
                repo("datasets/domains/computing"), "--quiet", "--seq-len", "32", "--batch-size",
                "2", "--test-windows", "1", "--max-steps-per-domain", "6", "--learning-rate",
                "30", "--max-grad-norm", "0", "--warmup-steps", "0", "--out",
                tmp.resolve("run").toString());
        assertEquals(3, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, r.err());
        assertTrue(lines[0].startsWith("retain train: training diverged at step "), lines[0]);
        Run rep = run("report", tmp.resolve("run").toString(), "--out",
                tmp.resolve("rep").toString());
        assertEquals(0, rep.code(), rep.err());
        assertTrue(rep.out().contains("0/1 diverged"), rep.out());
        JsonNode run = new ObjectMapper().readTree(tmp.resolve("rep/report.json").toFile())
                .get("runs").get(0);
        assertEquals("diverged", run.get("status").asText());
        assertEquals(lines[0].substring("retain train: ".length()),
                run.get("divergence").asText());
        String md = Files.readString(tmp.resolve("rep/report.md"));
        assertTrue(md.contains("naive diverged, 0 of 1 stages have scores: training diverged at"
                + " step "), md);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    @Test
    void tokenizerLargerThanModel() throws IOException {
        ObjectNode t = (ObjectNode) new ObjectMapper().readTree(Path.of(TOK).toFile());
        ((ObjectNode) t.get("model").get("vocab")).put("zzzz-extra", 60000);
        Path big = tmp.resolve("big-tokenizer.json");
        new ObjectMapper().writeValue(big.toFile(), t);
        Path d = domain("a", "text");
        userError(run("eval", "--model", TINY, "--tokenizer", big.toString(), "--domains",
                d.toString()), "big-tokenizer.json", "60001", "50257");
    }

    @Test
    void emptySplit() throws IOException {
        Path d = domain("blank", "");
        userError(run("eval", "--model", TINY, "--tokenizer", TOK, "--domains", d.toString()),
                "test.txt", "empty");
    }

    @Test
    void missingSplit() throws IOException {
        Path d = domain("gone", "x");
        Files.delete(d.resolve("test.txt"));
        userError(run("eval", "--model", TINY, "--tokenizer", TOK, "--domains", d.toString()),
                "test.txt", "missing");
    }

    @Test
    void notUtf8() throws IOException {
        Path d = domain("latin", "x");
        Files.write(d.resolve("test.txt"), "caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
        userError(run("eval", "--model", TINY, "--tokenizer", TOK, "--domains", d.toString()),
                "test.txt", "not UTF-8", "line 1, column 4");
    }

    @Test
    void windowLargerThanContext() throws IOException {
        Path d = domain("w", "some text here");
        userError(run("eval", "--model", TINY, "--tokenizer", TOK, "--domains", d.toString(),
                "--window", "100"), "--seq-len 100", TINY, "(64 tokens)", "--seq-len 64 or less");
    }

    @Test
    void unknownOptionAndCommand() {
        userError(run("eval", "--modle", "x"), "--modle");
        userError(run("frobnicate"), "frobnicate");
    }

    @Test
    void noStackTraceEvenForManyErrors() {
        List<Run> runs = new ArrayList<>();
        runs.add(run("info"));
        runs.add(run("eval", "--model", TINY));
        for (Run r : runs) {
            assertEquals(2, r.code(), r.err());
            assertFalse(r.err().contains("\tat "), r.err());
        }
    }
}
