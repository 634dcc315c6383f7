package dev.retain.core.text;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;

import java.io.IOException;
import java.io.Reader;
import java.nio.CharBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the document of one JSONL line as the line streams past, so that neither the line nor
 * its document is ever held whole: Jackson's streaming parser checks the line (JSON syntax, one
 * object, no duplicate field, the limits below) and passes over every value without keeping it,
 * while the text field's string is decoded alongside, from the same characters, into the sink.
 *
 * <p>Limits, set here on purpose (a line over one is a bad line): nesting depth {@value
 * #MAX_DEPTH}, numbers of {@value #MAX_NUMBER} digits, field names of {@value #MAX_NAME}
 * characters. Strings (the text field's included) and lines may be of any length: they are not
 * held. A lone surrogate escape ({@code "\ud800"} without its pair) is no text: a bad line.
 */
final class JsonlLine {

    /** The deepest nesting of objects and arrays in a line. */
    static final int MAX_DEPTH = 64;
    /** The most digits in a number. */
    static final int MAX_NUMBER = 1000;
    /** The most characters in a field name. */
    static final int MAX_NAME = 1000;

    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(MAX_DEPTH)
                    .maxNumberLength(MAX_NUMBER)
                    .maxNameLength(MAX_NAME)
                    .maxStringLength(MAX_NAME) // no value is read whole: names alone are kept
                    .maxDocumentLength(-1) // a line of any length: it is streamed
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private JsonlLine() {}

    /**
     * Reads one line: its text field's string goes to the sink, in parts; the caller ends the
     * document when this returns null and discards it otherwise.
     *
     * @param lines positioned on the line (its pieces not read yet)
     * @param field the field that holds the text
     * @param sink takes the text
     * @param progress called with the bytes read so far, now and then
     * @return null when the document went to the sink, {@code ""} for a blank line (no record),
     *     else why the line is bad (without its file and line)
     * @throws IOException when the sink fails
     */
    static String read(Utf8Lines lines, String field, DocumentReader.Sink sink,
            Runnable progress) throws IOException {
        return read(lines, field, "", sink, progress);
    }

    /**
     * As {@link #read(Utf8Lines, String, DocumentReader.Sink, Runnable)}, and with a time field
     * its value (a string, or a number as a {@link java.math.BigDecimal}) goes to the sink's
     * {@link DocumentReader.Sink#time} once the line is read; a line without it, or with
     * something else in it, is bad.
     *
     * @param lines positioned on the line
     * @param field the field that holds the text
     * @param timeField the field that holds the time, or empty for none
     * @param sink takes the text and the time
     * @param progress called now and then
     * @return as the other
     * @throws IOException when the sink fails
     */
    static String read(Utf8Lines lines, String field, String timeField,
            DocumentReader.Sink sink, Runnable progress) throws IOException {
        LineReader in = new LineReader(lines, progress);
        JsonParser p = JSON.createParser(in);
        try {
            String why = parse(p, in, field, timeField, sink);
            return lines.problem() != null ? lines.problem() : why;
        } catch (StreamConstraintsException e) {
            return lines.problem() != null ? lines.problem() : "over a limit at column "
                    + p.currentLocation().getColumnNr() + " (" + limit(e) + ")";
        } catch (JsonProcessingException e) {
            if (lines.problem() != null) {
                return lines.problem();
            }
            JsonLocation at = e.getLocation() != null ? e.getLocation() : p.currentLocation();
            String why = String.valueOf(e.getOriginalMessage()).split("\n")[0];
            return "not JSON at column " + at.getColumnNr() + " (" + why + ")";
        } finally {
            p.close();
        }
    }

    private static String parse(JsonParser p, LineReader in, String field, String timeField,
            DocumentReader.Sink sink) throws IOException {
        JsonToken t = p.nextToken();
        if (t == null) {
            return "";
        }
        if (t != JsonToken.START_OBJECT) {
            return "not a JSON object (a line holds one object, e.g. {\"" + field
                    + "\": \"...\"})";
        }
        List<String> names = new ArrayList<>();
        String kind = null;
        StringDecoder text = null;
        Object time = null;
        String timeKind = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            if (names.size() <= 20) {
                names.add(names.size() < 20 ? name : "...");
            }
            t = p.nextToken();
            if (name.equals(field) && t == JsonToken.VALUE_STRING) {
                text = in.decodeFrom(p.currentLocation().getCharOffset(), sink);
            } else if (name.equals(field)) {
                kind = kind(t);
            } else if (!timeField.isEmpty() && name.equals(timeField)) {
                if (t == JsonToken.VALUE_STRING) {
                    time = p.getText();
                } else if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
                    time = p.getDecimalValue();
                } else {
                    timeKind = kind(t);
                }
            }
            p.skipChildren();
        }
        if (p.nextToken() != null) {
            return "not JSON at column " + p.currentTokenLocation().getColumnNr() + " (more"
                    + " after the object: a line holds one object)";
        }
        if (kind != null) {
            return "field '" + field + "' holds " + kind + ", not a string";
        }
        if (text == null) {
            return "no field '" + field + "' (its fields: " + (names.isEmpty() ? "none"
                    : String.join(", ", names)) + "); name the field that holds the text with"
                    + " --text-field";
        }
        if (text.problem() != null || timeField.isEmpty()) {
            return text.problem();
        }
        if (timeKind != null) {
            return "field '" + timeField + "' holds " + timeKind + ", not a time (ISO-8601 text"
                    + " or a number)";
        }
        if (time == null) {
            return "no field '" + timeField + "' (its fields: " + String.join(", ", names)
                    + "); every line needs the time --time-field names";
        }
        return sink.time(time);
    }

    /** Jackson's message without its pointer into the API. */
    private static String limit(StreamConstraintsException e) {
        String m = String.valueOf(e.getOriginalMessage()).split("\n")[0];
        return m.replaceAll(",? from `StreamReadConstraints[^`]*`\\)", ")")
                .replaceAll(" \\(from `StreamReadConstraints[^`]*`\\)", "")
                + "; a JSONL line's limits: nesting " + MAX_DEPTH + " deep, numbers of "
                + MAX_NUMBER + " digits, field names of " + MAX_NAME + " characters";
    }

    private static String kind(JsonToken t) {
        switch (t) {
            case VALUE_NULL:
                return "null";
            case VALUE_NUMBER_INT:
            case VALUE_NUMBER_FLOAT:
                return "a number";
            case VALUE_TRUE:
            case VALUE_FALSE:
                return "a boolean";
            case START_ARRAY:
                return "an array";
            default:
                return "an object";
        }
    }

    /**
     * The line's characters for Jackson, piece by piece (a byte-order mark at the start of the
     * file left out). It keeps the characters it handed over last, so that the text field's
     * decoder can start where Jackson found the string, and then feeds it everything after.
     */
    private static final class LineReader extends Reader {
        private final Utf8Lines lines;
        private final Runnable progress;
        private CharBuffer piece;
        private boolean done;
        private long handed;
        private char[] last = new char[0];
        private int lastLength;
        private StringDecoder decoder;

        LineReader(Utf8Lines lines, Runnable progress) {
            this.lines = lines;
            this.progress = progress;
        }

        @Override
        public int read(char[] buf, int off, int len) throws IOException {
            while (!done && (piece == null || !piece.hasRemaining())) {
                piece = lines.piece();
                progress.run();
                if (piece == null) {
                    done = true;
                } else if (handed == 0 && lines.number() == 1 && piece.hasRemaining()
                        && piece.get(piece.position()) == '\uFEFF') {
                    piece.get(); // a byte-order mark is no JSON
                }
            }
            if (done || len == 0) {
                return done ? -1 : 0;
            }
            int n = Math.min(len, piece.remaining());
            piece.get(buf, off, n);
            if (last.length < n) {
                last = new char[Math.max(n, 4096)];
            }
            System.arraycopy(buf, off, last, 0, n);
            lastLength = n;
            handed += n;
            if (decoder != null) {
                decoder.feed(buf, off, n);
            }
            return n;
        }

        /** Starts decoding the string whose first character is at {@code at} (0-based). */
        StringDecoder decodeFrom(long at, DocumentReader.Sink sink) throws IOException {
            long start = handed - lastLength;
            if (at < start || at > handed) {
                throw new IllegalStateException("the string at " + at + " is not among the"
                        + " characters handed over last (" + start + " to " + handed + ")");
            }
            decoder = new StringDecoder(sink, at);
            decoder.feed(last, (int) (at - start), (int) (handed - at));
            return decoder;
        }

        @Override
        public void close() {
            // the lines belong to the caller
        }
    }

    /**
     * Decodes a JSON string's content (after its opening quote) as it streams past, up to its
     * closing quote, into the sink in parts. Syntax errors are Jackson's to report (it reads the
     * same characters); this one finds lone surrogates, which Jackson lets through.
     */
    private static final class StringDecoder {
        private final DocumentReader.Sink sink;
        private final StringBuilder out = new StringBuilder();
        private long at;
        private boolean closed;
        private int escape = -1; // -1: none; 0: after a backslash; 1..4: hex digits read
        private int hex;
        /** Where the character being decoded starts (its backslash when escaped). */
        private long start;
        private char high;
        private long highAt;
        private String problem;

        StringDecoder(DocumentReader.Sink sink, long at) {
            this.sink = sink;
            this.at = at;
        }

        void feed(char[] buf, int off, int n) throws IOException {
            for (int i = off; i < off + n && !closed; i++, at++) {
                take(buf[i]);
            }
            flush();
        }

        private void take(char c) {
            if (escape == 0) {
                escape = -1;
                switch (c) {
                    case 'u':
                        escape = 1;
                        hex = 0;
                        return;
                    case 'b':
                        emit('\b');
                        return;
                    case 'f':
                        emit('\f');
                        return;
                    case 'n':
                        emit('\n');
                        return;
                    case 'r':
                        emit('\r');
                        return;
                    case 't':
                        emit('\t');
                        return;
                    default:
                        emit(c); // \" \\ \/ (anything else is Jackson's error to report)
                        return;
                }
            }
            if (escape > 0) {
                hex = hex * 16 + Character.digit(c, 16);
                if (escape++ == 4) {
                    escape = -1;
                    emit((char) hex);
                }
                return;
            }
            start = at;
            if (c == '\\') {
                escape = 0;
            } else if (c == '"') {
                closed = true;
                if (high != 0) {
                    lone(high, highAt);
                }
            } else {
                emit(c);
            }
        }

        private void emit(char c) {
            if (high != 0) {
                char h = high;
                high = 0;
                if (Character.isLowSurrogate(c)) {
                    out.append(h).append(c);
                    return;
                }
                lone(h, highAt);
            }
            if (Character.isHighSurrogate(c)) {
                high = c;
                highAt = start;
            } else if (Character.isLowSurrogate(c)) {
                lone(c, start);
            } else {
                out.append(c);
            }
        }

        private void lone(char c, long where) {
            if (problem == null) {
                problem = String.format("a lone surrogate \\u%04x at column %d of the text"
                        + " field: half of a character (a pair such as \\ud83d\\ude00 is"
                        + " one), not text", (int) c, where + 1);
            }
        }

        private void flush() throws IOException {
            if (out.length() > 0 && problem == null) {
                sink.append(out);
            }
            out.setLength(0);
        }

        /** @return why the string is no text, or null */
        String problem() {
            return problem;
        }
    }
}
