package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.util.RepoPaths;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * {@code retain prepare} and sources without splits on the command line: the summary, training
 * from each kind of source, one line (file:line) and exit 2 for each bad input, skipped lines
 * counted, and a resume refusing a changed source.
 */
class PrepareCommandTest {

    @TempDir Path tmp;

    static final String TINY = CliTest.TINY;
    static final String TOK = CliTest.TOK;

    /** Short documents cut from a shipped domain's train split. */
    static List<String> docs(String domain, int n) throws IOException {
        String text = Files.readString(RepoPaths.resolve("datasets/domains", domain,
                "train.txt"));
        List<String> out = new ArrayList<>();
        for (String d : text.split("<\\|endoftext\\|>")) {
            String s = d.strip();
            if (s.length() > 80 && s.indexOf('\\') < 0 && s.indexOf('"') < 0) {
                out.add(s.substring(0, Math.min(400, s.length())));
            }
            if (out.size() == n) {
                break;
            }
        }
        return out;
    }

    static String jsonl(List<String> docs) {
        StringBuilder sb = new StringBuilder();
        for (String d : docs) {
            sb.append("{\"text\": \"").append(d.replace("\n", "\\n").replace("\t", "\\t"))
                    .append("\"}\n");
        }
        return sb.toString();
    }

    static byte[] gzip(String s) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (OutputStream g = new GZIPOutputStream(b)) {
            g.write(s.getBytes(StandardCharsets.UTF_8));
        }
        return b.toByteArray();
    }

    /**
     * A JSONL.gz, a .txt and a folder of documents (some in a sub-folder, .txt and .md), each of
     * 30 documents.
     */
    List<Path> sources() throws IOException {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Path news = Files.write(src.resolve("news.jsonl.gz"), gzip(jsonl(docs("computing",
                30))));
        Path book = Files.writeString(src.resolve("book.txt"), String.join("<|endoftext|>",
                docs("scripture", 30)));
        Path notes = Files.createDirectories(src.resolve("notes/sub")).getParent();
        List<String> legal = docs("legal", 30);
        for (int i = 0; i < legal.size(); i++) {
            Files.writeString(notes.resolve((i % 2 == 0 ? "sub/" : "") + String.format(
                    "n%02d.%s", i, i % 3 == 0 ? "md" : "txt")), legal.get(i));
        }
        return List.of(news, book, notes);
    }

    @Test
    void prepareWritesASplitFolderPerSourceAndPrintsTheSummary() throws IOException {
        List<Path> src = sources();
        Path out = tmp.resolve("prepared");
        List<String> args = new ArrayList<>(List.of("prepare", "--out", out.toString(),
                "--split", "60,20,20", "--tokenizer", TOK, "--quiet"));
        src.forEach(p -> args.add(p.toString()));
        CliTest.Run r = CliTest.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        for (String name : List.of("news", "book", "notes")) {
            JsonNode m = new ObjectMapper().readTree(out.resolve(name + "/source.json").toFile());
            long docs = 0;
            for (String s : List.of("train", "valid", "test")) {
                long size = Files.size(out.resolve(name).resolve(s + ".txt"));
                assertEquals(size, m.get("bytes").get(s).asLong());
                assertTrue(Files.isRegularFile(out.resolve(name + "/.tokens/" + s + ".tok")));
                long d = m.get("documents").get(s).asLong();
                docs += d;
                String row = name + "\\s+" + s + "\\s+" + d + "\\s+\\d+\\s+" + size + "\\s*";
                assertTrue(r.out().lines().anyMatch(l -> l.matches(row)), row + "\n" + r.out());
            }
            assertEquals(30, docs, name);
            assertTrue(r.out().lines().anyMatch(l -> l.matches(name + "\\s+all\\s+30\\s+\\d+\\s+"
                    + "\\d+\\s+0\\s+0")), r.out());
        }
        // The same sources again: byte-identical split files.
        args.set(args.indexOf(out.toString()), tmp.resolve("again").toString());
        assertEquals(0, CliTest.run(args.toArray(String[]::new)).code());
        for (String f : List.of("news/train.txt", "book/valid.txt", "notes/test.txt")) {
            assertArrayEquals(Files.readAllBytes(out.resolve(f)),
                    Files.readAllBytes(tmp.resolve("again").resolve(f)), f);
        }
    }

    List<String> trainArgs(Path out, List<Path> domains) {
        List<String> a = new ArrayList<>(List.of("train", "--model", TINY, "--tokenizer", TOK,
                "--strategy", "naive", "--out", out.toString(), "--max-steps-per-domain", "2",
                "--seq-len", "32", "--batch-size", "2", "--test-windows", "2", "--eval-every", "0",
                "--split", "60,20,20", "--device", "cpu", "--quiet", "--domains"));
        domains.forEach(d -> a.add(d.toString()));
        return a;
    }

    @Test
    void eachKindOfSourceTrainsAndAResumeRefusesAChangedSource() throws IOException {
        List<Path> domains = new ArrayList<>(sources());
        domains.add(TestDomains.cut(tmp.resolve("split"), "code", 3000, 1200));
        Path run = tmp.resolve("run");
        CliTest.Run r = CliTest.run(trainArgs(run, domains).toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        JsonNode results = new ObjectMapper().readTree(run.resolve("results.json").toFile());
        assertEquals("[\"news\",\"book\",\"notes\",\"code\"]", results.get("tasks").toString());
        assertEquals(5, results.get("scores").get("perplexity").get("rows").size());
        JsonNode setup = new ObjectMapper().readTree(run.resolve("run.json").toFile());
        assertEquals("{\"text-field\":\"text\",\"doc-sep\":\"eot\",\"split\":\"60,20,20\","
                + "\"skip-bad-lines\":false}", setup.get("sources").toString());
        assertTrue(setup.get("inputs").has(domains.get(2).toString()), "the folder's fingerprint");
        assertTrue(Files.isDirectory(tmp.resolve("src/.retain-splits")), "split beside them");

        // A resume takes no source settings of its own: it splits as the run started.
        CliTest.userError(CliTest.run("train", "--resume", run.toString(), "--split", "90,5,5"),
                "--resume continues a run with the settings it started with; drop --split");
        // A changed JSONL source, folder of documents or split file is refused, each in one line.
        byte[] news = Files.readAllBytes(domains.get(0));
        Files.write(domains.get(0), gzip(jsonl(docs("computing", 29))));
        CliTest.userError(CliTest.run("train", "--resume", run.toString(), "--quiet"),
                domains.get(0) + ": has changed since run " + run + " started");
        Files.write(domains.get(0), news);
        Path added = Files.writeString(domains.get(2).resolve("late.md"), "a later note");
        CliTest.userError(CliTest.run("train", "--resume", run.toString(), "--quiet"),
                domains.get(2) + ": has changed since run " + run + " started");
        Files.delete(added);
        Path train = domains.get(3).resolve("train.txt");
        Files.writeString(train, "changed");
        CliTest.userError(CliTest.run("train", "--resume", run.toString(), "--quiet"),
                train + ": has changed since run " + run + " started");
    }

    @Test
    void eachBadInputIsOneLineWithFileAndLineAndExitTwo() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("bad"));
        String ok = jsonl(docs("computing", 3));
        Path notJson = Files.writeString(dir.resolve("a.jsonl"), ok + "{\"text\": oops}\n");
        Path noField = Files.writeString(dir.resolve("b.jsonl"), ok + ok + "{\"body\": \"x\"}\n");
        Path notString = Files.writeString(dir.resolve("c.jsonl"), "{\"text\": [1]}\n");
        Path latin = dir.resolve("d.jsonl");
        Files.write(latin, (ok + "{\"text\": \"caf\u00e9\"}\n").getBytes(
                StandardCharsets.ISO_8859_1));
        byte[] gz = gzip(jsonl(docs("computing", 200)));
        Path cut = Files.write(dir.resolve("e.jsonl.gz"), Arrays.copyOf(gz, gz.length - 40));
        Path latinTxt = dir.resolve("f.txt");
        Files.write(latinTxt, "ok\nna\u00efve\n".getBytes(StandardCharsets.ISO_8859_1));
        String[][] cases = {
            {notJson.toString(), notJson + ":4: not JSON at column 14"},
            {noField.toString(), noField + ":7: no field 'text' (its fields: body)"},
            {notString.toString(), notString + ":1: field 'text' holds an array, not a string"},
            {latin.toString(), latin + ": bytes that are not UTF-8 at line 4, column 14"},
            {cut.toString(), cut + ":", ": the gzip data ends early"},
            {latinTxt.toString(), latinTxt + ": bytes that are not UTF-8 at line 2, column 3"},
        };
        for (String[] c : cases) {
            CliTest.Run r = CliTest.run("prepare", c[0], "--out", tmp.resolve("out").toString(),
                    "--tokenizer", TOK, "--quiet");
            CliTest.userError(r, Arrays.copyOfRange(c, 1, c.length));
            // train and eval read sources the same way
            CliTest.userError(CliTest.run("eval", "--model", TINY, "--tokenizer", TOK,
                    "--domains", c[0], "--quiet"), Arrays.copyOfRange(c, 1, c.length));
        }
        CliTest.userError(CliTest.run("fisher", "--model", TINY, "--tokenizer", TOK, "--domain",
                noField.toString(), "--out", tmp.resolve("f.ndlist").toString()), noField
                + ":7: no field 'text' (its fields: body)");
        CliTest.userError(CliTest.run("prepare", notJson.toString(), "--out", tmp.resolve("out")
                .toString(), "--split", "90,5,6"), "--split 90,5,6: the train, valid and test"
                + " shares are percentages, each 0 or more, summing to 100");
        CliTest.userError(CliTest.run("prepare", dir.resolve("nope.jsonl").toString(), "--out",
                tmp.resolve("out").toString()), "nope.jsonl: domain not found");
    }

    @Test
    void skipBadLinesCountsThemInTheSummaryAndOnStderr() throws IOException {
        List<String> docs = docs("computing", 40);
        String text = jsonl(docs.subList(0, 20)) + "garbage\n{\"title\": \"t\"}\n"
                + "{\"text\": \"  \"}\n" + jsonl(docs.subList(20, 40)) + "{\"text\": false}\n";
        Path src = Files.writeString(tmp.resolve("mixed.jsonl"), text);
        CliTest.Run r = withStderr("prepare", src.toString(), "--out", tmp.resolve("out")
                .toString(), "--split", "60,20,20", "--skip-bad-lines", "--quiet");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("mixed\\s+all\\s+40\\s+\\d+\\s+\\d+"
                + "\\s+1\\s+3")), r.out());
        assertTrue(r.err().contains("retain: warning: mixed: skipped 3 bad lines"
                + " (--skip-bad-lines); the first: " + src + ":21: not JSON"), r.err());
        CliTest.Run e = withStderr("eval", "--model", TINY, "--tokenizer", TOK, "--domains",
                src.toString(), "--split-shares", "60,20,20", "--skip-bad-lines", "--quiet");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.err().contains("mixed: skipped 3 bad lines"), e.err());
        // Without the flag, the cached split (made with it) is not used: the first bad line stops.
        CliTest.userError(CliTest.run("eval", "--model", TINY, "--tokenizer", TOK, "--domains",
                src.toString(), "--split-shares", "60,20,20", "--quiet"), src + ":21: not JSON",
                "--skip-bad-lines");
    }

    /** Runs a command with what it prints on System.err (warnings) in the run's err. */
    static CliTest.Run withStderr(String... args) {
        java.io.PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            CliTest.Run r = CliTest.run(args);
            return new CliTest.Run(r.code(), r.out(), err.toString(StandardCharsets.UTF_8)
                    + r.err());
        } finally {
            System.setErr(saved);
        }
    }
}
