package dev.retain.core.text;

import dev.retain.core.UserError;

import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads a text file (gzip-compressed when its name ends in {@code .gz}) one line at a time, with
 * strict UTF-8 and the line number of every line. A line is handed out in pieces of at most
 * {@link #PIECE} bytes' worth of text, so that a file is read in the same small memory whatever
 * the length of its lines (a 1 GB line included). Bytes that are not UTF-8 end a line's pieces
 * ({@link #piece()} is null and {@link #problem()} says where); a damaged or truncated gzip
 * stream is a {@link UserError} naming the file and the line it broke in.
 *
 * <p>Use: {@code while (advance()) { while ((p = piece()) != null) ...; problem() or
 * lineBreak() }}. A piece is a reused buffer, valid until the next call.
 */
final class Utf8Lines implements AutoCloseable {

    /** The most bytes of a line decoded at a time. */
    static final int PIECE = 1 << 16;

    private final Path file;
    private final Counting raw;
    private final InputStream in;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private final byte[] buf = new byte[1 << 16];
    private int pos;
    private int lim;
    /** Bytes of the current line not decoded yet: a piece's tail (a cut UTF-8 sequence, a CR). */
    private final byte[] stage = new byte[PIECE + 8];
    private int staged;
    private final CharBuffer chars = CharBuffer.allocate(PIECE + 8);
    private long offset;
    private long lineStart;
    /** Bytes of the current line decoded so far, and how many of them began a character. */
    private long lineDecoded;
    private long lineLeads;
    private int number;
    private boolean inLine;
    private boolean lineEnded;
    private String lineBreak = "";
    private String problem;

    private Utf8Lines(Path file, Counting raw, InputStream in) {
        this.file = file;
        this.raw = raw;
        this.in = in;
    }

    /**
     * Opens a file.
     *
     * @param file the file; read through gzip when its name ends in {@code .gz}
     * @param digest updated with every byte of the file as stored (compressed for gzip), or null
     * @return the reader
     */
    static Utf8Lines open(Path file, MessageDigest digest) {
        Counting raw;
        try {
            raw = new Counting(Files.newInputStream(file), digest);
        } catch (IOException e) {
            throw new UserError(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (!file.getFileName().toString().endsWith(".gz")) {
            return new Utf8Lines(file, raw, raw);
        }
        try {
            return new Utf8Lines(file, raw, new GZIPInputStream(raw, 1 << 16));
        } catch (IOException e) {
            closeQuietly(raw);
            throw new UserError(file + ": not gzip data (" + e.getMessage() + "); a .gz source"
                    + " must be gzip-compressed, or drop the .gz from its name", e);
        }
    }

    /**
     * Moves to the next line, passing over what was not read of the current one.
     *
     * @return false at the end of the file
     * @throws UserError when the file cannot be read, or its gzip data is damaged or truncated
     */
    boolean advance() {
        if (inLine && !lineEnded) {
            skipRest();
        }
        if (pos == lim && !fill(number + 1)) {
            inLine = false;
            return false;
        }
        number++;
        inLine = true;
        lineEnded = false;
        lineStart = offset;
        lineDecoded = 0;
        lineLeads = 0;
        staged = 0;
        lineBreak = "";
        problem = null;
        decoder.reset();
        return true;
    }

    private void skipRest() {
        while (pos < lim || fill(number)) {
            int i = pos;
            while (i < lim && buf[i] != '\n') {
                i++;
            }
            boolean found = i < lim;
            offset += (found ? i + 1 : i) - pos;
            pos = found ? i + 1 : i;
            if (found) {
                break;
            }
        }
        lineEnded = true;
    }

    /**
     * The next piece of the current line's text, without its line break.
     *
     * @return the piece (possibly empty), or null when the line has no more, or when its bytes
     *     are not UTF-8 ({@link #problem()} then says where)
     */
    CharBuffer piece() {
        if (!inLine || lineEnded) {
            return null;
        }
        boolean end = false;
        boolean newline = false;
        while (staged < PIECE) {
            if (pos == lim && !fill(number)) {
                end = true;
                break;
            }
            int room = Math.min(lim, pos + PIECE - staged);
            int i = pos;
            while (i < room && buf[i] != '\n') {
                i++;
            }
            System.arraycopy(buf, pos, stage, staged, i - pos);
            staged += i - pos;
            offset += i - pos;
            pos = i;
            if (i < lim && buf[i] == '\n') {
                pos++;
                offset++;
                end = true;
                newline = true;
                break;
            }
        }
        int n = staged;
        if (end) {
            boolean crlf = newline && n > 0 && stage[n - 1] == '\r';
            n -= crlf ? 1 : 0;
            lineBreak = crlf ? "\r\n" : newline ? "\n" : "";
        } else if (stage[n - 1] == '\r') {
            n--; // perhaps the CR of a CR LF: decided with the next piece
        }
        return decode(n, end);
    }

    private CharBuffer decode(int n, boolean end) {
        ByteBuffer src = ByteBuffer.wrap(stage, 0, n);
        chars.clear();
        CoderResult r = decoder.decode(src, chars, end);
        if (!r.isError() && end) {
            r = decoder.flush(chars);
        }
        if (r.isError()) {
            int at = src.position();
            long col = lineLeads + 1;
            for (int i = 0; i < at; i++) {
                col += (stage[i] & 0xC0) != 0x80 ? 1 : 0;
            }
            problem = String.format("%s: bytes that are not UTF-8 at line %d, column %d (byte"
                    + " offset %d, 0x%02x); convert the file to UTF-8 (e.g. iconv -f latin1 -t"
                    + " utf-8)", file, number, col, lineStart + lineDecoded + at,
                    stage[at] & 0xff);
            if (!end) {
                skipRest();
            }
            lineEnded = true;
            return null;
        }
        int used = src.position();
        for (int i = 0; i < used; i++) {
            lineLeads += (stage[i] & 0xC0) != 0x80 ? 1 : 0;
        }
        lineDecoded += used;
        System.arraycopy(stage, used, stage, 0, staged - used);
        staged -= used;
        lineEnded = end;
        chars.flip();
        return chars;
    }

    /** Reads more of the file; {@code line} is the line being read, for messages. */
    private boolean fill(int line) {
        try {
            lim = in.read(buf);
        } catch (EOFException e) {
            throw new UserError(file + ":" + line + ": the gzip data ends early ("
                    + e.getMessage() + "); the file is truncated: compress or download it"
                    + " again", e);
        } catch (ZipException e) {
            throw new UserError(file + ":" + line + ": damaged gzip data ("
                    + e.getMessage() + "); compress or download the file again", e);
        } catch (IOException e) {
            throw new UserError(file + ":" + line + ": cannot read ("
                    + e.getMessage() + ")", e);
        }
        pos = 0;
        if (lim <= 0) {
            lim = 0;
            return false;
        }
        return true;
    }

    /**
     * @return the line break that ended the current line once its last piece was read: {@code
     *     "\n"}, {@code "\r\n"}, or {@code ""} for a last line without one
     */
    String lineBreak() {
        return lineBreak;
    }

    /** @return why the current line could not be decoded (one line naming file and line), or null */
    String problem() {
        return problem;
    }

    /** @return the 1-based number of the current line */
    int number() {
        return number;
    }

    /** @return bytes of the file read so far, as stored (compressed for gzip) */
    long bytesRead() {
        return raw.count;
    }

    /** @return the file */
    Path file() {
        return file;
    }

    @Override
    public void close() {
        closeQuietly(in);
    }

    private static void closeQuietly(InputStream s) {
        try {
            s.close();
        } catch (IOException e) {
            // only read from: nothing is lost
        }
    }

    /** Counts (and hashes) the bytes read from the file. */
    private static final class Counting extends FilterInputStream {
        private final MessageDigest digest;
        private long count;

        Counting(InputStream in, MessageDigest digest) {
            super(in);
            this.digest = digest;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
                if (digest != null) {
                    digest.update((byte) b);
                }
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int n) throws IOException {
            int r = super.read(b, off, n);
            if (r > 0) {
                count += r;
                if (digest != null) {
                    digest.update(b, off, r);
                }
            }
            return r;
        }
    }
}
