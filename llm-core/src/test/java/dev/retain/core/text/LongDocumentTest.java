package dev.retain.core.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;
import dev.retain.core.util.RepoPaths;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;

/**
 * Sources are bounded by design: a line and a document are read in pieces, never whole (a child
 * JVM with a heap smaller than the document splits and tokenizes it); JSON limits and lone
 * surrogates are bad lines; a long document is tokenized in parts with the ids of the whole.
 */
class LongDocumentTest {

    @TempDir Path tmp;

    private static final SourceOptions SPLIT_50_0_50 =
            new SourceOptions("text", SourceOptions.DocSep.EOT, 50, 0, 50, false);

    /** Words, lines and multi-byte characters, deterministic. */
    private static String text(int chars, long seed) {
        String[] words = {"lorem", "ipsum", "caf\u00e9", "dolor", "\u00fcber", "sit", "amet",
            "\u6f22\u5b57", "na\u00efve", "\ud83d\ude00"};
        StringBuilder sb = new StringBuilder(chars + 16);
        java.util.Random r = new java.util.Random(seed);
        while (sb.length() < chars) {
            sb.append(words[r.nextInt(words.length)]);
            sb.append(r.nextInt(12) == 0 ? ".\n" : " ");
        }
        return sb.toString();
    }

    private static String json(String s) {
        return "{\"text\": \"" + s.replace("\\", "\\\\").replace("\"", "\\\"")
                .replace("\n", "\\n") + "\"}\n";
    }

    /** Short documents that put some in train and some in test. */
    private static List<String> fillers() {
        List<String> f = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            f.add("filler document number " + i);
        }
        return f;
    }

    /** The split files the rule gives to these documents, in order. */
    private static String[] expected(List<String> docs) {
        StringBuilder[] want = {new StringBuilder(), new StringBuilder(), new StringBuilder()};
        for (String d : docs) {
            StringBuilder sb = want[split(d).ordinal()];
            sb.append(sb.length() > 0 ? GptTokenizer.EOS_TEXT : "").append(d);
        }
        return new String[] {want[0].toString(), want[1].toString(), want[2].toString()};
    }

    private static Split split(String doc) {
        return SPLIT_50_0_50.assign(doc.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aDocumentLongerThanTheMemoryBufferGoesWholeToTheSplitItsHashGives() throws Exception {
        // Longer than SplitWriter.IN_MEMORY and than Utf8Lines.PIECE: gathered on disk, read in
        // pieces whose boundaries fall inside multi-byte characters and surrogate pairs.
        String big = text(SplitWriter.IN_MEMORY + 300_000, 1);
        List<String> docs = new ArrayList<>(fillers());
        docs.add(3, big);
        Path f = tmp.resolve("long.jsonl");
        try (Writer w = Files.newBufferedWriter(f)) {
            for (int i = 0; i < docs.size(); i++) {
                w.write(i % 2 == 0 ? json(docs.get(i)) : json(docs.get(i)).replace("\n", "\r\n"));
            }
        }
        DomainSource.Prepared p = DomainSource.of(f, SPLIT_50_0_50).prepare(tmp.resolve("out"),
                false);
        String[] want = expected(docs);
        for (Split s : Split.values()) {
            assertEquals(want[s.ordinal()], Files.readString(p.domain().textFile(s)), s.label());
        }
        try (var left = Files.list(p.domain().dir())) {
            assertEquals(List.of(), left.filter(x -> x.getFileName().toString().endsWith(".tmp"))
                    .toList(), "the scratch file is gone");
        }
    }

    @Test
    void theSameDocumentAsTextFileAndFolderGivesTheSameSplits() throws Exception {
        String big = text(Utf8Lines.PIECE * 3 + 17, 2);
        // A line far longer than a piece, a separator and CR LF straddling piece boundaries.
        String a = "x".repeat(Utf8Lines.PIECE - 5);
        String b = "y".repeat(Utf8Lines.PIECE - 1) + "\r\n" + big;
        List<String> docs = new ArrayList<>(fillers());
        docs.addAll(4, List.of(a, b));
        Path txt = Files.writeString(tmp.resolve("t.txt"), String.join(GptTokenizer.EOS_TEXT,
                docs));
        Path out = tmp.resolve("out");
        DomainSource.Prepared p = DomainSource.of(txt, SPLIT_50_0_50).prepare(out, false);
        assertEquals(docs.size(), p.stats().documents());
        String[] want = expected(docs);
        for (Split s : Split.values()) {
            assertEquals(want[s.ordinal()], Files.readString(p.domain().textFile(s)));
        }
        // A folder document is the file as it is, however long.
        Path dir = Files.createDirectories(tmp.resolve("docs"));
        for (int i = 0; i < docs.size(); i++) {
            Files.writeString(dir.resolve(String.format("d%02d.txt", i)), docs.get(i));
        }
        Files.writeString(dir.resolve("empty.md"), "   \n\t");
        DomainSource.Prepared q = DomainSource.of(dir, SPLIT_50_0_50).prepare(out, false);
        assertEquals(docs.size(), q.stats().documents());
        assertEquals(1, q.stats().emptyDocuments());
        for (Split s : Split.values()) {
            assertEquals(want[s.ordinal()], Files.readString(q.domain().textFile(s)));
        }
    }

    @Test
    void blankLineSeparatedParagraphsLongerThanAPiece() throws Exception {
        String para = text(Utf8Lines.PIECE + 100, 3).replace("\n", " ");
        String spaces = " ".repeat(Utf8Lines.PIECE + 3);
        String src = "one\n  two  \n" + spaces + "\n" + para + "\nend\n\n\n\t\nlast\n\n"
                + String.join("\n\n", fillers());
        Path txt = Files.writeString(tmp.resolve("p.txt"), src);
        SourceOptions blank = new SourceOptions("text", SourceOptions.DocSep.BLANK, 50, 0, 50,
                false);
        DomainSource.Prepared p = DomainSource.of(txt, blank).prepare(tmp.resolve("o"), false);
        List<String> docs = new ArrayList<>(List.of("one\n  two  ", para + "\nend", "last"));
        docs.addAll(fillers());
        assertEquals(docs.size(), p.stats().documents());
        String[] want = expected(docs);
        for (Split s : Split.values()) {
            assertEquals(want[s.ordinal()], Files.readString(p.domain().textFile(s)));
        }
    }

    private static void bad(Path src, String message) {
        UserError e = assertThrows(UserError.class, () -> DomainSource.of(src, SPLIT_50_0_50)
                .prepare(src.getParent().resolve("out"), false));
        assertEquals(message, e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void jsonLimitsAndLoneSurrogatesAreBadLines() throws IOException {
        String hint = DocumentReader.SKIP_HINT;
        Path f = tmp.resolve("deep.jsonl");
        Files.writeString(f, "{\"text\": \"fine\"}\n{\"text\": \"x\", \"a\": " + "[".repeat(1001)
                + "]".repeat(1001) + "}\n");
        bad(f, f + ":2: over a limit at column 84 (Document nesting depth (65) exceeds the"
                + " maximum allowed (64); a JSONL line's limits: nesting 64 deep, numbers of 1000"
                + " digits, field names of 1000 characters)" + hint);
        Files.writeString(f, "{\"text\": \"x\", \"n\": " + "9".repeat(1001) + "}\n");
        UserError number = assertThrows(UserError.class, () -> DomainSource.of(f,
                SPLIT_50_0_50).prepare(tmp.resolve("out"), false));
        assertTrue(number.getMessage().startsWith(f + ":1: over a limit at column"),
                number.getMessage());
        Files.writeString(f, "{\"text\": \"x\\ud800y\"}\n");
        bad(f, f + ":1: a lone surrogate \\ud800 at column 12 of the text field: half of a"
                + " character (a pair such as \\ud83d\\ude00 is one), not text" + hint);
        Files.writeString(f, "{\"text\": \"ok \\ud83d\\ude00 \\udc00\"}\n");
        bad(f, f + ":1: a lone surrogate \\udc00 at column 27 of the text field: half of a"
                + " character (a pair such as \\ud83d\\ude00 is one), not text" + hint);
        Files.writeString(f, "{\"text\": \"a\"} {\"text\": \"b\"}\n");
        bad(f, f + ":1: not JSON at column 15 (more after the object: a line holds one object)"
                + hint);
        Files.writeString(f, "{\"text\": \"a\", \"text\": \"b\"}\n");
        UserError dup = assertThrows(UserError.class, () -> DomainSource.of(f, SPLIT_50_0_50)
                .prepare(tmp.resolve("out"), false));
        assertTrue(dup.getMessage().contains("Duplicate field 'text'"), dup.getMessage());
        // Escapes are decoded, a pair is one character; skipped lines are counted.
        StringBuilder lines = new StringBuilder();
        fillers().forEach(x -> lines.append(json(x)));
        Files.writeString(f, "{\"text\": \"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\ud83d\\ude00\"}\n"
                + "{\"text\": \"y\\udbff\"}\n[1]\n" + lines);
        SourceOptions skip = new SourceOptions("text", SourceOptions.DocSep.EOT, 50, 0, 50, true);
        DomainSource.Prepared p = DomainSource.of(f, skip).prepare(tmp.resolve("out"), false);
        assertEquals(2, p.stats().badLines());
        assertEquals(1 + fillers().size(), p.stats().documents());
        String first = "a\"b\\c/d\n\t\u00e9\ud83d\ude00";
        assertTrue(Files.readString(p.domain().textFile(skip.assign(first.getBytes(
                StandardCharsets.UTF_8)))).contains(first));
    }

    @Test
    void aLongDocumentIsTokenizedInPartsWithTheIdsOfTheWhole() throws IOException {
        try (GptTokenizer tok = GptTokenizer.load(RepoPaths.resolve(
                "datasets/tokenizers/gpt2/tokenizer.json"))) {
            String doc = text(40_000, 4) + "  spaces\n\n\nand   runs\r\n\tof white space "
                    + text(5_000, 5);
            int[] whole = Domain.tokenize(doc + GptTokenizer.EOS_TEXT + "tail", tok);
            for (int part : new int[] {64, 333, 4096}) {
                Path file = tmp.resolve("p" + part + ".tok");
                try (TokenFile.Writer w = TokenFile.writer(file, tok.vocabSize(),
                        tok.fingerprint())) {
                    EotSplitter s = new EotSplitter(new DocumentEncoder(tok, w, part));
                    for (int i = 0; i < doc.length(); i += 777) {
                        s.add(doc.substring(i, Math.min(doc.length(), i + 777)));
                    }
                    s.add(GptTokenizer.EOS_TEXT.substring(0, 5));
                    s.add(GptTokenizer.EOS_TEXT.substring(5) + "tail");
                    s.finish();
                    w.commit("0".repeat(64));
                }
                TokenFile tf = TokenFile.openOrNull(file);
                int[] got = new int[(int) tf.size()];
                for (int i = 0; i < got.length; i++) {
                    got[i] = tf.get(i);
                }
                assertArrayEquals(whole, got, "parts of " + part + " chars");
            }
            // No space to cut at: cut where the part ends, never inside a surrogate pair.
            String emoji = "\ud83d\ude00".repeat(100);
            assertEquals(50, DocumentEncoder.cut(emoji, 51));
            assertEquals(60, DocumentEncoder.cut("a".repeat(200), 60));
            assertEquals(59, DocumentEncoder.cut("a".repeat(59) + " b" + "c".repeat(200), 60));
            assertEquals(60, DocumentEncoder.cut("a".repeat(31) + "\nb" + "c".repeat(27) + " d"
                    + "c".repeat(200), 60));
            assertEquals(32, DocumentEncoder.cut("a".repeat(31) + "\nb" + "c".repeat(200), 60));
        }
    }

    /**
     * A child JVM whose heap (32 MB) is smaller than one document (a 12 MB JSONL line, in a
     * .gz): it splits the source and tokenizes the split. Reading the line or the document
     * whole (its bytes and its chars), or tokenizing it at once, runs out of memory.
     */
    @Test
    void aDocumentLargerThanTheHeapIsSplitAndTokenized() throws Exception {
        Path f = tmp.resolve("huge.jsonl.gz");
        String unit = "Lorem ipsum dolor sit amet, caf\u00e9 consectetur.\n".repeat(1 << 14);
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(f))) {
            for (String x : fillers()) {
                o.write(json(x).getBytes(StandardCharsets.UTF_8));
            }
            o.write("{\"text\": \"".getBytes(StandardCharsets.UTF_8));
            byte[] u = json(unit).substring(10, json(unit).length() - 3)
                    .getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < 12; i++) {
                o.write(u);
                md.update(unit.getBytes(StandardCharsets.UTF_8));
            }
            o.write("\"}\n".getBytes(StandardCharsets.UTF_8));
        }
        Split bigSplit = SPLIT_50_0_50.assignHashed(md.digest());
        long want = 12L * unit.getBytes(StandardCharsets.UTF_8).length;
        for (String small : fillers()) {
            if (split(small) == bigSplit) {
                want += small.length() + GptTokenizer.EOS_TEXT.length();
            }
        }
        List<String> cmd = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse("java"), "-Xmx32m",
                "-cp", System.getProperty("java.class.path"), Probe.class.getName(),
                f.toString(), tmp.resolve("out").toString(), bigSplit.name(),
                RepoPaths.resolve("datasets/tokenizers/gpt2/tokenizer.json").toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        String[] got = out.trim().split("\n");
        String last = got[got.length - 1];
        assertTrue(last.startsWith("documents " + (1 + fillers().size()) + " bytes " + want
                + " tokens "), out);
        // The big document's ids are those of its lines encoded one by one (a line break before
        // a word is a piece of its own to GPT-2), the others' as they are, with a separator
        // between documents.
        long tokens;
        try (GptTokenizer tok = GptTokenizer.load(RepoPaths.resolve(
                "datasets/tokenizers/gpt2/tokenizer.json"))) {
            String line = unit.substring(0, unit.indexOf('\n') + 1);
            tokens = 12L * (1 << 14) * tok.encode(line).length;
            for (String small : fillers()) {
                if (split(small) == bigSplit) {
                    tokens += tok.encode(small).length + 1;
                }
            }
        }
        assertTrue(last.endsWith(" tokens " + tokens), last + " (expected " + tokens + ")");
    }

    /** The child of {@link #aDocumentLargerThanTheHeapIsSplitAndTokenized}. */
    public static final class Probe {
        /**
         * Splits a source, tokenizes one split, prints what it found.
         *
         * @param a source, out folder, the split to tokenize, tokenizer
         * @throws IOException when a file cannot be read or written
         */
        public static void main(String[] a) throws IOException {
            DomainSource.Prepared p = DomainSource.of(Path.of(a[0]), SPLIT_50_0_50)
                    .prepare(Path.of(a[1]), false);
            Split s = Split.valueOf(a[2]);
            try (GptTokenizer tok = GptTokenizer.load(Path.of(a[3]))) {
                System.out.println("documents " + p.stats().documents() + " bytes "
                        + Files.size(p.domain().textFile(s)) + " tokens "
                        + p.domain().tokens(s, tok).size());
            }
        }
    }
}
