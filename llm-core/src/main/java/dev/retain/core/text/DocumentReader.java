package dev.retain.core.text;

import dev.retain.core.UserError;
import dev.retain.core.util.Progress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * Streams the documents of a {@link DomainSource}, one at a time, in the source's order, each in
 * parts: neither a line nor a document is ever held whole, so a source is read in the same small
 * memory whatever the length of its documents. Empty and white-space-only documents are skipped
 * and counted; a JSONL line that cannot be read stops the reading with one line naming the file
 * and line, or is skipped and counted with {@code --skip-bad-lines}.
 */
final class DocumentReader {

    /** Where documents go: each in parts, then its end. */
    interface Sink {
        /**
         * More text of the current document.
         *
         * @param text the text; valid only during the call
         * @throws IOException when it cannot be written
         */
        void append(CharSequence text) throws IOException;

        /** @return the current document's length so far, in bytes, as a mark for {@link #truncate} */
        long length();

        /**
         * Cuts the current document back to a mark, removing text that turned out to be no part
         * of it (white space only).
         *
         * @param length a mark from {@link #length()}
         * @throws IOException when it cannot be cut
         */
        void truncate(long length) throws IOException;

        /**
         * Ends the current document: written to a split, or counted as empty when blank.
         *
         * @param split the split it belongs to when the source says (a split folder's file), or
         *     null to place it by the split rule
         * @throws IOException when it cannot be written
         */
        void end(Split split) throws IOException;

        /**
         * Drops the current document (a bad line).
         *
         * @throws IOException when it cannot be dropped
         */
        void discard() throws IOException;

        /**
         * The current document's time ({@code --time-field}), given after its text and before
         * {@link #end}.
         *
         * @param time a {@link String} or a {@link java.math.BigDecimal}
         * @return null, or why the time cannot be used (the line is then bad)
         */
        default String time(Object time) {
            return null;
        }
    }

    /** The end of a bad-line message when such lines stop the reading. */
    static final String SKIP_HINT = "; fix the line, or give --skip-bad-lines to skip such lines";

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
                for (Path f : DocumentFolder.files(p)) {
                    r.file(f);
                }
        }
    }

    private void advance(Utf8Lines lines) {
        long now = lines.bytesRead();
        progress.advance(now - reported);
        reported = now;
    }

    /** The pieces of the current line, one by one; a line that is not UTF-8 stops the reading. */
    private static CharSequence piece(Utf8Lines lines) {
        CharSequence p = lines.piece();
        if (p == null && lines.problem() != null) {
            throw new UserError(lines.problem());
        }
        return p;
    }

    /** A text file: documents separated by {@code <|endoftext|>} or by blank lines. */
    private void text(Path file, SourceOptions.DocSep sep, Split split, MessageDigest digest)
            throws IOException {
        reported = 0;
        try (Utf8Lines lines = Utf8Lines.open(file, digest)) {
            if (sep == SourceOptions.DocSep.BLANK) {
                paragraphs(lines, split);
                return;
            }
            EotSplitter docs = new EotSplitter(new EotSplitter.Target() {
                @Override
                public void text(CharSequence part) throws IOException {
                    sink.append(part);
                }

                @Override
                public void end() throws IOException {
                    sink.end(split);
                }
            });
            while (lines.advance()) {
                CharSequence p;
                while ((p = piece(lines)) != null) {
                    docs.add(p);
                    advance(lines);
                }
                docs.add(lines.lineBreak());
            }
            docs.finish();
        }
    }

    /**
     * Documents separated by blank lines: the lines of a document joined by {@code \n}. Whether
     * a line is blank is known only at its end, so a line is written as it comes and cut away
     * again when it held nothing but white space.
     */
    private void paragraphs(Utf8Lines lines, Split split) throws IOException {
        boolean open = false;
        while (lines.advance()) {
            long mark = sink.length();
            if (open) {
                sink.append("\n");
            }
            boolean words = false;
            CharSequence p;
            while ((p = piece(lines)) != null) {
                sink.append(p);
                words = words || hasText(p);
                advance(lines);
            }
            if (words) {
                open = true;
            } else {
                sink.truncate(mark);
                if (open) {
                    sink.end(split);
                    open = false;
                }
            }
        }
        if (open) {
            sink.end(split);
        }
    }

    /** A JSONL file: one JSON object a line, the document in its text field. */
    private void jsonl(Path file, MessageDigest digest) throws IOException {
        String field = source.options().textField();
        String timeField = source.options().timeField();
        reported = 0;
        try (Utf8Lines lines = Utf8Lines.open(file, digest)) {
            while (lines.advance()) {
                String why = JsonlLine.read(lines, field, timeField, sink, () -> advance(lines));
                if (why == null) {
                    sink.end(null);
                } else {
                    sink.discard();
                    if (!why.isEmpty()) {
                        bad(why.startsWith(file + ":") ? why
                                : file + ":" + lines.number() + ": " + why);
                    }
                }
                advance(lines);
            }
        }
    }

    private void bad(String message) {
        if (!source.options().skipBadLines()) {
            throw new UserError(message + SKIP_HINT);
        }
        stats.addBadLine(message);
    }

    /** A document file of a folder: the whole file is one document. */
    private void file(Path f) throws IOException {
        reported = 0;
        try (Utf8Lines lines = Utf8Lines.open(f, null)) {
            while (lines.advance()) {
                CharSequence p;
                while ((p = piece(lines)) != null) {
                    sink.append(p);
                    advance(lines);
                }
                sink.append(lines.lineBreak());
            }
        }
        sink.end(null);
    }

    private static boolean hasText(CharSequence s) {
        for (int i = 0; i < s.length(); i++) {
            if (!Character.isWhitespace(s.charAt(i))) {
                return true;
            }
        }
        return false;
    }
}
