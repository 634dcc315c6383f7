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
 * strict UTF-8 and the line number of every line, so that a file of any size is read in the
 * memory of its longest line. Bytes that are not UTF-8 make a line undecodable ({@link #line()}
 * is null and {@link #problem()} says where); a damaged or truncated gzip stream is a {@link
 * UserError} naming the file and the line it broke in.
 */
final class Utf8Lines implements AutoCloseable {

    private final Path file;
    private final Counting raw;
    private final InputStream in;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private final byte[] buf = new byte[1 << 16];
    private int pos;
    private int lim;
    private byte[] bytes = new byte[1024];
    private int len;
    private long offset;
    private long lineStart;
    private int number;
    private CharBuffer chars = CharBuffer.allocate(1024);
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
     * Reads the next line.
     *
     * @return false at the end of the file
     * @throws UserError when the file cannot be read, or its gzip data is damaged or truncated
     */
    boolean advance() {
        len = 0;
        lineStart = offset;
        problem = null;
        while (true) {
            if (pos == lim && !fill()) {
                if (len == 0) {
                    return false;
                }
                break;
            }
            int i = pos;
            while (i < lim && buf[i] != '\n') {
                i++;
            }
            int end = i < lim ? i + 1 : lim;
            append(end - pos);
            if (i < lim) {
                break;
            }
        }
        number++;
        return true;
    }

    private void append(int n) {
        if (len + n > bytes.length) {
            bytes = java.util.Arrays.copyOf(bytes, Math.max(len + n, bytes.length * 2));
        }
        System.arraycopy(buf, pos, bytes, len, n);
        len += n;
        pos += n;
        offset += n;
    }

    private boolean fill() {
        try {
            lim = in.read(buf);
        } catch (EOFException e) {
            throw new UserError(file + ":" + (number + 1) + ": the gzip data ends early ("
                    + e.getMessage() + "); the file is truncated: compress or download it"
                    + " again", e);
        } catch (ZipException e) {
            throw new UserError(file + ":" + (number + 1) + ": damaged gzip data ("
                    + e.getMessage() + "); compress or download the file again", e);
        } catch (IOException e) {
            throw new UserError(file + ":" + (number + 1) + ": cannot read (" + e.getMessage()
                    + ")", e);
        }
        pos = 0;
        if (lim <= 0) {
            lim = 0;
            return false;
        }
        return true;
    }

    /**
     * The line last read, decoded, with its line break ({@code \n} or {@code \r\n}) when it has
     * one (the last line of a file may have none).
     *
     * @return the text, or null when its bytes are not UTF-8 ({@link #problem()} says where)
     */
    String line() {
        boolean ascii = true;
        for (int i = 0; i < len; i++) {
            if (bytes[i] < 0) {
                ascii = false;
                break;
            }
        }
        if (ascii) {
            return new String(bytes, 0, len, StandardCharsets.ISO_8859_1);
        }
        if (chars.capacity() < len) {
            chars = CharBuffer.allocate(Math.max(len, chars.capacity() * 2));
        }
        chars.clear();
        decoder.reset();
        ByteBuffer src = ByteBuffer.wrap(bytes, 0, len);
        CoderResult r = decoder.decode(src, chars, true);
        if (!r.isError()) {
            r = decoder.flush(chars);
        }
        if (r.isError()) {
            int at = src.position();
            int col = 1;
            for (int i = 0; i < at; i++) {
                if ((bytes[i] & 0xC0) != 0x80) {
                    col++;
                }
            }
            problem = String.format("%s: bytes that are not UTF-8 at line %d, column %d (byte"
                    + " offset %d, 0x%02x); convert the file to UTF-8 (e.g. iconv -f latin1 -t"
                    + " utf-8)", file, number, col, lineStart + at, bytes[at] & 0xff);
            return null;
        }
        chars.flip();
        return chars.toString();
    }

    /** @return why the last line could not be decoded (one line naming file and line), or null */
    String problem() {
        return problem;
    }

    /** @return the 1-based number of the line last read */
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
