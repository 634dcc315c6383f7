package dev.retain.core.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * Domain sources: each kind read into the documents expected, each document in the split the
 * documented hash rule gives (computed here independently), the same bytes every time, and one
 * line naming file and line for each kind of bad input.
 */
class DomainSourceTest {

    @TempDir Path tmp;

    private static final SourceOptions SHARES_60_20_20 =
            new SourceOptions("text", SourceOptions.DocSep.EOT, 60, 20, 20, false);

    /** Documents varied enough that 60/20/20 puts some in each split. */
    private static List<String> docs(int n) {
        List<String> d = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            d.add("Document " + i + " about " + (i % 3 == 0 ? "caf\u00e9s" : "trains")
                    + (i % 4 == 0 ? "\nwith a second line." : "."));
        }
        return d;
    }

    /**
     * The rule of docs/DATA.md, written out again: SHA-256 of the UTF-8 bytes, the first 8 bytes as an
     * unsigned big-endian number, modulo 10000, against the shares times 100.
     */
    private static Split expectedSplit(String doc, int train, int valid) throws Exception {
        byte[] h = MessageDigest.getInstance("SHA-256").digest(doc.getBytes(StandardCharsets.UTF_8));
        int bucket = new BigInteger(1, Arrays.copyOf(h, 8)).mod(BigInteger.valueOf(10000))
                .intValue();
        return bucket < train * 100 ? Split.TRAIN : bucket < (train + valid) * 100 ? Split.VALID
                : Split.TEST;
    }

    /** The three split files the rule gives, documents in source order joined by EOT. */
    private static String[] expectedFiles(List<String> docs, int train, int valid)
            throws Exception {
        List<List<String>> parts = List.of(new ArrayList<>(), new ArrayList<>(),
                new ArrayList<>());
        for (String d : docs) {
            parts.get(expectedSplit(d, train, valid).ordinal()).add(d);
        }
        String[] out = new String[3];
        for (int i = 0; i < 3; i++) {
            out[i] = String.join(GptTokenizer.EOS_TEXT, parts.get(i));
        }
        return out;
    }

    private static String[] read(Domain d) throws IOException {
        String[] out = new String[3];
        for (Split s : Split.values()) {
            out[s.ordinal()] = Files.readString(d.textFile(s), StandardCharsets.UTF_8);
        }
        return out;
    }

    private static String jsonl(List<String> docs) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < docs.size(); i++) {
            sb.append("{\"id\": ").append(i).append(", \"text\": \"")
                    .append(docs.get(i).replace("\n", "\\n")).append("\"}\n");
        }
        return sb.toString();
    }

    private static byte[] gzip(byte[] b) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (OutputStream g = new GZIPOutputStream(bo)) {
            g.write(b);
        }
        return bo.toByteArray();
    }

    @Test
    void jsonlAndGzipAreSplitByTheHashOfEachDocument() throws Exception {
        List<String> docs = docs(40);
        String[] expected = expectedFiles(docs, 60, 20);
        for (String e : expected) {
            assertFalse(e.isEmpty(), "the fixture puts documents in every split");
        }
        Path plain = Files.writeString(tmp.resolve("news.jsonl"), jsonl(docs));
        Path gz = Files.write(tmp.resolve("wire.jsonl.gz"),
                gzip(jsonl(docs).getBytes(StandardCharsets.UTF_8)));
        for (Path src : List.of(plain, gz)) {
            DomainSource s = DomainSource.of(src, SHARES_60_20_20);
            assertEquals(DomainSource.Kind.JSONL, s.kind());
            DomainSource.Prepared p = s.prepare(tmp.resolve("out"), false);
            assertArrayEquals(expected, read(p.domain()), src.toString());
            assertEquals(40, p.stats().documents());
            assertEquals(Files.size(p.domain().textFile(Split.TRAIN)),
                    p.stats().bytes(Split.TRAIN));
        }
        assertEquals("news", DomainSource.nameOf(plain));
        assertEquals("wire", DomainSource.nameOf(gz));
    }

    @Test
    void textFileWithEndOfTextOrBlankLines() throws Exception {
        List<String> docs = docs(30);
        Path eot = Files.writeString(tmp.resolve("book.txt"),
                String.join(GptTokenizer.EOS_TEXT, docs) + GptTokenizer.EOS_TEXT + " \n");
        DomainSource.Prepared p = DomainSource.of(eot, SHARES_60_20_20)
                .prepare(tmp.resolve("out"), false);
        assertArrayEquals(expectedFiles(docs, 60, 20), read(p.domain()));
        assertEquals(1, p.stats().emptyDocuments(), "the blank tail after the last separator");
        assertEquals("book", p.domain().name());

        // Blank lines (any white space, CR LF too) separate paragraphs; a paragraph's lines are
        // joined by LF.
        Path blank = Files.writeString(tmp.resolve("paras.txt"), "\n\nfirst para\r\nline two\n"
                + "  \t\nsecond para\n\n\n\nthird\n");
        SourceOptions byBlank = new SourceOptions("text", SourceOptions.DocSep.BLANK, 60, 20, 20,
                false);
        DomainSource.Prepared q = DomainSource.of(blank, byBlank).prepare(tmp.resolve("out"),
                false);
        assertArrayEquals(expectedFiles(List.of("first para\nline two", "second para", "third"),
                60, 20), read(q.domain()));
        assertEquals(0, q.stats().emptyDocuments());
    }

    @Test
    void folderOfDocumentsInRelativePathOrder() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("notes"));
        Files.createDirectories(dir.resolve("b/deeper"));
        Files.createDirectories(dir.resolve(".git"));
        Files.writeString(dir.resolve("b/deeper/z.txt"), "zed document");
        Files.writeString(dir.resolve("b/a.md"), "# heading\n\nbody of b/a\n");
        Files.writeString(dir.resolve("a.txt"), "first by path");
        Files.writeString(dir.resolve("c.TXT"), "upper-case extension");
        Files.writeString(dir.resolve("empty.md"), " \n\n");
        Files.writeString(dir.resolve(".hidden.txt"), "left out");
        Files.writeString(dir.resolve(".git/x.txt"), "left out");
        Files.writeString(dir.resolve("data.csv"), "left out");
        DomainSource s = DomainSource.of(dir, SHARES_60_20_20);
        assertEquals(DomainSource.Kind.DOC_FOLDER, s.kind());
        DomainSource.Prepared p = s.prepare(tmp.resolve("out"), false);
        // Order: a.txt, b/a.md, b/deeper/z.txt, c.TXT, empty.md (skipped, counted).
        assertArrayEquals(expectedFiles(List.of("first by path", "# heading\n\nbody of b/a\n",
                "zed document", "upper-case extension"), 60, 20), read(p.domain()));
        assertEquals(1, p.stats().emptyDocuments());
        assertEquals("notes", p.domain().name());
    }

    @Test
    void aFolderWithSplitsStaysASplitFolder() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("legal"));
        Files.writeString(dir.resolve("train.txt"), "a<|endoftext|>b");
        Files.writeString(dir.resolve("valid.txt"), "c");
        Files.writeString(dir.resolve("test.txt"), "d");
        Files.writeString(dir.resolve("README.md"), "not a document of a split folder");
        DomainSource s = DomainSource.of(dir, SHARES_60_20_20);
        assertEquals(DomainSource.Kind.SPLIT_FOLDER, s.kind());
        DomainSource.Prepared p = s.open(false);
        assertEquals(dir.toAbsolutePath(), p.domain().dir());
        assertNull(p.stats());
        assertFalse(Files.exists(tmp.resolve(".retain-splits")));
        // prepare copies it, document by document, to the same splits.
        DomainSource.Prepared c = s.prepare(tmp.resolve("copy"), false);
        assertArrayEquals(new String[] {"a<|endoftext|>b", "c", "d"}, read(c.domain()));
    }

    @Test
    void theSameSourceGivesByteIdenticalSplitsAndTheCacheIsReused() throws Exception {
        Path src = Files.writeString(tmp.resolve("news.jsonl"), jsonl(docs(300)));
        DomainSource s = DomainSource.of(src, SourceOptions.defaults());
        String[] a = read(s.prepare(tmp.resolve("one"), false).domain());
        String[] b = read(s.prepare(tmp.resolve("two"), false).domain());
        assertArrayEquals(a, b);
        DomainSource.Prepared first = s.open(false);
        assertFalse(first.reused());
        assertTrue(first.domain().dir().startsWith(tmp.resolve(".retain-splits")),
                first.domain().dir().toString());
        assertEquals("news", first.domain().dir().getFileName().toString());
        assertArrayEquals(a, read(first.domain()));
        DomainSource.Prepared again = DomainSource.of(src, SourceOptions.defaults()).open(false);
        assertTrue(again.reused());
        assertEquals(first.domain().dir(), again.domain().dir());
        // Another setting that decides the splits gets its own folder; one that does not (the
        // separator of .txt sources) does not.
        SourceOptions other = new SourceOptions("text", SourceOptions.DocSep.EOT, 90, 5, 5, false);
        assertFalse(DomainSource.of(src, other).open(false).domain().dir()
                .equals(first.domain().dir()));
        SourceOptions blank = new SourceOptions("text", SourceOptions.DocSep.BLANK, 98, 1, 1,
                false);
        assertTrue(DomainSource.of(src, blank).open(false).reused());
    }

    /** Asserts the exact one-line message of a bad source. */
    private static void bad(Path src, SourceOptions o, String message) {
        UserError e = assertThrows(UserError.class, () -> DomainSource.of(src, o)
                .prepare(src.getParent().resolve("out"), false));
        assertEquals(message, e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void eachBadJsonlLineIsOneLineNamingFileAndLine() throws IOException {
        String ok = "{\"text\": \"fine\"}\n";
        String hint = "; fix the line, or give --skip-bad-lines to skip such lines";
        Path f = tmp.resolve("bad.jsonl");
        Files.writeString(f, ok + "{\"text\": \"no end\n");
        bad(f, SourceOptions.defaults(), f + ":2: not JSON at column 17 (Unexpected end-of-input:"
                + " was expecting closing quote for a string value)" + hint);
        Files.writeString(f, ok + ok + "{\"body\": \"x\", \"id\": 3}\n");
        bad(f, SourceOptions.defaults(), f + ":3: no field 'text' (its fields: body, id); name"
                + " the field that holds the text with --text-field" + hint);
        Files.writeString(f, "{\"text\": 42}\n");
        bad(f, SourceOptions.defaults(), f + ":1: field 'text' holds a number, not a string"
                + hint);
        Files.writeString(f, "[\"text\"]\n");
        bad(f, SourceOptions.defaults(), f + ":1: not a JSON object (a line holds one object,"
                + " e.g. {\"text\": \"...\"})" + hint);
        Files.write(f, (ok + "{\"text\": \"caf").getBytes(StandardCharsets.UTF_8));
        Files.write(f, new byte[] {(byte) 0xe9, '"', '}', '\n'},
                java.nio.file.StandardOpenOption.APPEND);
        bad(f, SourceOptions.defaults(), f + ": bytes that are not UTF-8 at line 2, column 14"
                + " (byte offset 30, 0xe9); convert the file to UTF-8 (e.g. iconv -f latin1 -t"
                + " utf-8)" + hint);
    }

    @Test
    void aTruncatedGzipIsOneLineNamingTheLine() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
            sb.append("{\"text\": \"document number ").append(i).append(" ").append(
                    Integer.toHexString(i * 7919)).append("\"}\n");
        }
        byte[] whole = gzip(sb.toString().getBytes(StandardCharsets.UTF_8));
        Path f = Files.write(tmp.resolve("cut.jsonl.gz"), Arrays.copyOf(whole, whole.length / 2));
        UserError e = assertThrows(UserError.class, () -> DomainSource.of(f,
                SourceOptions.defaults()).prepare(tmp.resolve("out"), false));
        assertTrue(e.getMessage().matches(java.util.regex.Pattern.quote(f.toString())
                + ":\\d+: the gzip data ends early \\(Unexpected end of ZLIB input stream\\);"
                + " the file is truncated: compress or download it again"), e.getMessage());
        Path notGz = Files.writeString(tmp.resolve("plain.jsonl.gz"), "{\"text\": \"x\"}\n");
        bad(notGz, SourceOptions.defaults(), notGz + ": not gzip data (Not in GZIP format); a .gz"
                + " source must be gzip-compressed, or drop the .gz from its name");
    }

    @Test
    void skipBadLinesCountsThemAndACachedSkipIsNotReusedWithoutIt() throws Exception {
        List<String> docs = docs(30);
        String lines = jsonl(docs);
        String withBad = "not json\n" + lines + "{\"title\": \"no text\"}\n{\"text\": null}\n"
                + "{\"text\": \"   \"}\n\n";
        Path f = Files.writeString(tmp.resolve("mixed.jsonl"), withBad);
        SourceOptions skip = new SourceOptions("text", SourceOptions.DocSep.EOT, 60, 20, 20, true);
        DomainSource.Prepared p = DomainSource.of(f, skip).open(false);
        assertEquals(3, p.stats().badLines());
        assertEquals(1, p.stats().emptyDocuments());
        assertEquals(30, p.stats().documents());
        assertArrayEquals(expectedFiles(docs, 60, 20), read(p.domain()));
        assertTrue(p.warning().startsWith("retain: warning: mixed: skipped 3 bad lines"
                + " (--skip-bad-lines); the first: " + f + ":1: not JSON"), p.warning());
        // The same source without --skip-bad-lines stops at the first bad line, cache or not.
        UserError e = assertThrows(UserError.class, () -> DomainSource.of(f,
                SHARES_60_20_20).open(false));
        assertTrue(e.getMessage().startsWith(f + ":1: not JSON at column 4"), e.getMessage());
        assertTrue(e.getMessage().endsWith("give --skip-bad-lines to skip such lines"));
    }

    @Test
    void sharesThatLeaveTrainOrTestEmptyAreRefused() throws IOException {
        Path f = Files.writeString(tmp.resolve("few.jsonl"), jsonl(docs(3)));
        SourceOptions noTest = new SourceOptions("text", SourceOptions.DocSep.EOT, 100, 0, 0,
                false);
        bad(f, noTest, f + ": split 100,0,0 leaves the test split without documents (3"
                + " documents: 3 train, 0 valid, 0 test); add documents or give test a larger"
                + " share with --split");
        UserError sum = assertThrows(UserError.class, () -> SourceOptions.of("text", "eot",
                new int[] {98, 1, 2}, false, "--split"));
        assertEquals("--split 98,1,2: the train, valid and test shares are percentages, each 0"
                + " or more, summing to 100 (e.g. 98,1,1)", sum.getMessage());
        Path empty = Files.createDirectories(tmp.resolve("nothing"));
        bad(empty, SourceOptions.defaults(), empty + ": no documents: the folder holds no .txt or"
                + " .md files (nor train.txt, valid.txt, test.txt); a domain folder holds either");
    }

    @Test
    void theSplitRuleIsTheDocumentedOne() throws Exception {
        for (String d : List.of("", "a", "caf\u00e9", "x".repeat(1000))) {
            byte[] b = d.getBytes(StandardCharsets.UTF_8);
            for (int[] s : new int[][] {{98, 1, 1}, {60, 20, 20}, {0, 50, 50}}) {
                SourceOptions o = new SourceOptions("text", SourceOptions.DocSep.EOT, s[0], s[1],
                        s[2], false);
                assertEquals(expectedSplit(d, s[0], s[1]), o.assign(b), d + " " + o.splitText());
            }
        }
    }

    @Test
    void streamedTokensEqualTheWholeTextTokenized() throws IOException {
        try (GptTokenizer tok = GptTokenizer.load(dev.retain.core.util.RepoPaths.resolve(
                "datasets/tokenizers/gpt2/tokenizer.json"))) {
            Path d = Files.createDirectories(tmp.resolve("dom"));
            String text = "one line\nand <|endoftext|>two<|endoftext|><|endoftext|>\r\nthree caf\u00e9"
                    + "\n\nlast";
            for (Split s : Split.values()) {
                Files.writeString(d.resolve(s.fileName()), text);
            }
            TokenFile tf = Domain.of(d).tokens(Split.TEST, tok);
            int[] whole = Domain.tokenize(text, tok);
            assertEquals(whole.length, tf.size());
            for (int i = 0; i < whole.length; i++) {
                assertEquals(whole[i], tf.get(i), "token " + i);
            }
        }
    }

    @Test
    void aTimeFieldPutsEachSplitInTimeOrder() throws Exception {
        // 40 documents with times out of order (ISO-8601 text, some equal): each split file holds
        // its documents sorted by time, equal times in file order; the same hash rule places them.
        List<String> docs = docs(40);
        List<String> times = new ArrayList<>();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < docs.size(); i++) {
            String t = String.format(java.util.Locale.ROOT, "2024-%02d-01T00:00:00Z",
                    1 + (i * 7) % 12);
            times.add(t);
            sb.append("{\"text\": \"").append(docs.get(i).replace("\n", "\\n"))
                    .append("\", \"time\": \"").append(t).append("\"}\n");
        }
        Path src = Files.writeString(tmp.resolve("feed.jsonl"), sb.toString());
        SourceOptions byTime = new SourceOptions("text", SourceOptions.DocSep.EOT, 60, 20, 20,
                false, "time");
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < docs.size(); i++) {
            order.add(i);
        }
        order.sort(java.util.Comparator.comparing(times::get)); // stable
        List<String> sorted = new ArrayList<>();
        order.forEach(i -> sorted.add(docs.get(i)));
        DomainSource.Prepared p = DomainSource.of(src, byTime).prepare(tmp.resolve("out"), false);
        assertArrayEquals(expectedFiles(sorted, 60, 20), read(p.domain()));
        assertEquals(Files.size(p.domain().textFile(Split.TRAIN)), p.stats().bytes(Split.TRAIN));
        assertFalse(java.util.Arrays.equals(expectedFiles(docs, 60, 20), read(p.domain())),
                "the fixture's file order is not its time order");
        try (var left = Files.list(p.domain().textFile(Split.TRAIN).getParent())) {
            List<String> names = left.map(f -> f.getFileName().toString()).toList();
            assertTrue(names.stream().noneMatch(n -> n.contains("by-time")), "no scratch file"
                    + " left beside the splits: " + names);
        }

        // Numbers sort as numbers (10 after 9); a missing time, or text after numbers, is a bad
        // line naming file and line.
        StringBuilder nb = new StringBuilder();
        for (int i = 0; i < docs.size(); i++) { // times 40 down to 1: the reverse order
            nb.append("{\"text\": \"").append(docs.get(i).replace("\n", "\\n"))
                    .append("\", \"t\": ").append(docs.size() - i).append("}\n");
        }
        Path nums = Files.writeString(tmp.resolve("n.jsonl"), nb.toString());
        SourceOptions byT = new SourceOptions("text", SourceOptions.DocSep.EOT, 60, 20, 20,
                false, "t");
        List<String> reversed = new ArrayList<>(docs);
        java.util.Collections.reverse(reversed);
        assertArrayEquals(expectedFiles(reversed, 60, 20), read(DomainSource.of(nums, byT)
                .prepare(tmp.resolve("out"), false).domain()));
        Path missing = Files.writeString(tmp.resolve("m.jsonl"), "{\"text\": \"a\", \"t\": 1}\n"
                + "{\"text\": \"b\"}\n");
        UserError e = assertThrows(UserError.class, () -> DomainSource.of(missing, byT)
                .prepare(tmp.resolve("out"), false));
        assertTrue(e.getMessage().startsWith(missing + ":2: no field 't'"), e.getMessage());
        Path mixed = Files.writeString(tmp.resolve("x.jsonl"), "{\"text\": \"a\", \"t\": 1}\n"
                + "{\"text\": \"b\", \"t\": \"2024\"}\n");
        e = assertThrows(UserError.class, () -> DomainSource.of(mixed, byT)
                .prepare(tmp.resolve("out"), false));
        assertTrue(e.getMessage().startsWith(mixed + ":2: field 't' holds text here and numbers"),
                e.getMessage());
    }
}
