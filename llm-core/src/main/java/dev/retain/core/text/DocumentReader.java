package dev.retain.core.text;

import dev.retain.core.UserError;
import dev.retain.core.util.Progress;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Streams the documents of a {@link DomainSource}, one at a time, in the source's order: a
 * source of any size is read in the memory of its longest document. Empty and white-space-only
 * documents are skipped and counted; a JSONL line that cannot be read stops the reading with one
 * line naming the file and line, or is skipped and counted with {@code --skip-bad-lines}.
 */
final class DocumentReader {

    /** Where documents go. */
    interface Sink {
        /**
         * Takes one document.
         *
         * @param text the document, not blank
         * @param split the split it belongs to when the source says (a split folder's file), or
         *     null to place it by the split rule
         * @throws IOException when it cannot be written
         */
        void document(String text, Split split) throws IOException;
    }

    /** The end of a bad-line message when such lines stop the reading. */
    static final String SKIP_HINT = "; fix the line, or give --skip-bad-lines to skip such lines";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final DomainSource source;
    private final SourceStats stats;
    private final Progress progress;
    private final Sink sink;
    private long reported;

    private DocumentReader(DomainSource source, SourceStats stats, Progress progress, Sink sink) {
        this.source = source;
        this.stats = stats;
        this.progress = progress;
        this.sink = sink;
    }

    /**
     * Reads every document of a source.
     *
     * @param source the source
     * @param stats counts empty documents and bad lines
     * @param progress advanced by the bytes read
     * @param digest updated with the bytes of a single-file source as stored, or null
     * @param sink takes the documents
     * @throws IOException when the sink fails
     */
    static void read(DomainSource source, SourceStats stats, Progress progress,
            MessageDigest digest, Sink sink) throws IOException {
        DocumentReader r = new DocumentReader(source, stats, progress, sink);
        Path p = source.path();
        switch (source.kind()) {
            case SPLIT_FOLDER:
                for (Split s : Split.values()) {
                    Path f = p.resolve(s.fileName());
                    if (Files.isRegularFile(f)) {
                        r.text(f, SourceOptions.DocSep.EOT, s, null);
                    }
                }
                break;
            case TEXT:
                r.text(p, source.options().docSep(), null, digest);
                break;
            case JSONL:
                r.jsonl(p, digest);
                break;
            default:
                for (Path f : DomainSource.documentFiles(p)) {
                    r.file(f);
                }
        }
    }

    private void emit(String text, Split split) throws IOException {
        if (text.isBlank()) {
            stats.addEmpty();
        } else {
            sink.document(text, split);
        }
    }

    private void advance(Utf8Lines lines) {
        long now = lines.bytesRead();
        progress.advance(now - reported);
        reported = now;
    }

    /** A text file: documents separated by {@code <|endoftext|>} or by blank lines. */
    private void text(Path file, SourceOptions.DocSep sep, Split split, MessageDigest digest)
            throws IOException {
        reported = 0;
        StringBuilder doc = new StringBuilder();
        try (Utf8Lines lines = Utf8Lines.open(file, digest)) {
            while (lines.advance()) {
                String line = lines.line();
                if (line == null) {
                    throw new UserError(lines.problem());
                }
                if (sep == SourceOptions.DocSep.BLANK) {
                    if (line.isBlank()) {
                        emitParagraph(doc, split);
                    } else {
                        if (doc.length() > 0) {
                            doc.append('\n');
                        }
                        doc.append(line, 0, line.length() - lineBreak(line));
                    }
                } else {
                    int from = 0;
                    int at;
                    while ((at = line.indexOf(GptTokenizer.EOS_TEXT, from)) >= 0) {
                        doc.append(line, from, at);
                        emit(doc.toString(), split);
                        doc.setLength(0);
                        from = at + GptTokenizer.EOS_TEXT.length();
                    }
                    doc.append(line, from, line.length());
                }
                advance(lines);
            }
        }
        if (sep == SourceOptions.DocSep.BLANK) {
            emitParagraph(doc, split);
        } else {
            emit(doc.toString(), split);
        }
    }

    private void emitParagraph(StringBuilder doc, Split split) throws IOException {
        if (doc.length() > 0) {
            emit(doc.toString(), split);
            doc.setLength(0);
        }
    }

    /** @return the length of the line break that ends a line: 2 for CR LF, 1 for LF, else 0 */
    static int lineBreak(String line) {
        int n = line.length();
        if (n > 0 && line.charAt(n - 1) == '\n') {
            return n > 1 && line.charAt(n - 2) == '\r' ? 2 : 1;
        }
        return 0;
    }

    /** A JSONL file: one JSON object a line, the document in its text field. */
    private void jsonl(Path file, MessageDigest digest) throws IOException {
        String field = source.options().textField();
        reported = 0;
        try (Utf8Lines lines = Utf8Lines.open(file, digest)) {
            while (lines.advance()) {
                String line = lines.line();
                advance(lines);
                if (line == null) {
                    bad(lines.problem());
                    continue;
                }
                line = line.substring(lines.number() == 1 && line.startsWith("\uFEFF") ? 1 : 0,
                        line.length() - lineBreak(line)); // a byte-order mark is no JSON
                if (line.isBlank()) {
                    continue; // blank lines hold no record
                }
                String where = file + ":" + lines.number() + ": ";
                JsonNode node;
                try {
                    node = JSON.readTree(line);
                } catch (JsonProcessingException e) {
                    String why = String.valueOf(e.getOriginalMessage()).split("\n")[0];
                    bad(where + "not JSON at column " + e.getLocation().getColumnNr() + " ("
                            + why + ")");
                    continue;
                }
                if (node == null || !node.isObject()) {
                    bad(where + "not a JSON object (a line holds one object, e.g. {\"" + field
                            + "\": \"...\"})");
                    continue;
                }
                JsonNode text = node.get(field);
                if (text == null) {
                    bad(where + "no field '" + field + "' (its fields: " + fields(node)
                            + "); name the field that holds the text with --text-field");
                    continue;
                }
                if (!text.isTextual()) {
                    bad(where + "field '" + field + "' holds " + kind(text) + ", not a string");
                    continue;
                }
                emit(text.textValue(), null);
            }
        }
    }

    private void bad(String message) {
        if (!source.options().skipBadLines()) {
            throw new UserError(message + SKIP_HINT);
        }
        stats.addBadLine(message);
    }

    private static String fields(JsonNode node) {
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        return names.isEmpty() ? "none" : String.join(", ", names);
    }

    private static String kind(JsonNode n) {
        if (n.isNull()) {
            return "null";
        }
        if (n.isNumber()) {
            return "a number";
        }
        if (n.isBoolean()) {
            return "a boolean";
        }
        return n.isArray() ? "an array" : "an object";
    }

    /** A document file of a folder: the whole file is one document. */
    private void file(Path f) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(f);
        } catch (IOException e) {
            throw new UserError(f + ": cannot read (" + e.getMessage() + ")", e);
        }
        emit(Domain.decodeUtf8(f, bytes), null);
        progress.advance(bytes.length);
    }
}
