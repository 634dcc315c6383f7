package dev.retain.core.text;

import dev.retain.core.util.AtomicFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A tokenized split on disk: a small header, then the token ids as little-endian {@code uint16}
 * (when the vocabulary fits in 65,536 ids) or {@code int32}. Read memory-mapped.
 *
 * <p>Header (little-endian): magic {@code "RTOK"}, int version (1), int bytes per token (2 or 4),
 * long token count, then two length-prefixed UTF-8 strings: the SHA-256 of the source text and the
 * fingerprint of the tokenizer. A cached file is reused only when both match.
 */
public final class TokenFile {

    private static final int MAGIC = 0x4b4f5452; // "RTOK" read little-endian
    private static final int VERSION = 1;

    private final Path path;
    private final ByteBuffer data;
    private final int width;
    private final long size;
    private final String sourceHash;
    private final String tokenizerHash;

    private TokenFile(Path path, ByteBuffer data, int width, long size, String src, String tok) {
        this.path = path;
        this.data = data;
        this.width = width;
        this.size = size;
        this.sourceHash = src;
        this.tokenizerHash = tok;
    }

    /**
     * Writes ids atomically.
     *
     * @param path the target file
     * @param ids the token ids
     * @param vocabSize the vocabulary size (decides uint16 or int32)
     * @param sourceHash SHA-256 of the source text
     * @param tokenizerHash fingerprint of the tokenizer
     * @throws IOException when writing fails
     */
    public static void write(Path path, int[] ids, int vocabSize, String sourceHash,
            String tokenizerHash) throws IOException {
        int width = vocabSize <= 65536 ? 2 : 4;
        AtomicFiles.write(path, os -> {
            ByteBuffer head = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
            head.putInt(MAGIC).putInt(VERSION).putInt(width).putLong(ids.length);
            os.write(head.array());
            writeString(os, sourceHash);
            writeString(os, tokenizerHash);
            ByteBuffer body = ByteBuffer.allocate(ids.length * width).order(ByteOrder.LITTLE_ENDIAN);
            for (int id : ids) {
                if (width == 2) {
                    body.putShort((short) id);
                } else {
                    body.putInt(id);
                }
            }
            os.write(body.array());
        });
    }

    private static void writeString(java.io.OutputStream os, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        ByteBuffer len = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length);
        os.write(len.array());
        os.write(b);
    }

    /**
     * Opens a token file, or returns null when it is missing or not a valid token file (a cache
     * that must be rebuilt).
     *
     * @param path the file
     * @return the mapped file, or null
     */
    public static TokenFile openOrNull(Path path) {
        if (!Files.isRegularFile(path)) {
            return null;
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long len = ch.size();
            if (len < 28) {
                return null;
            }
            MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, 0, len);
            map.order(ByteOrder.LITTLE_ENDIAN);
            if (map.getInt() != MAGIC || map.getInt() != VERSION) {
                return null;
            }
            int width = map.getInt();
            long count = map.getLong();
            String src = readString(map);
            String tok = readString(map);
            if (src == null || tok == null || (width != 2 && width != 4)
                    || map.remaining() != count * width) {
                return null;
            }
            ByteBuffer body = map.slice().order(ByteOrder.LITTLE_ENDIAN);
            return new TokenFile(path, body, width, count, src, tok);
        } catch (IOException e) {
            return null;
        }
    }

    private static String readString(ByteBuffer b) {
        if (b.remaining() < 4) {
            return null;
        }
        int n = b.getInt();
        if (n < 0 || n > 1024 || b.remaining() < n) {
            return null;
        }
        byte[] s = new byte[n];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    /**
     * The id at a position.
     *
     * @param i position, 0-based
     * @return the token id
     */
    public int get(long i) {
        return width == 2 ? Short.toUnsignedInt(data.getShort((int) (i * 2)))
                : data.getInt((int) (i * 4));
    }

    /**
     * Copies {@code n} ids starting at {@code from} into {@code dst} as longs.
     *
     * @param from first position
     * @param dst destination
     * @param offset where in dst to start
     * @param n how many
     */
    public void copy(long from, long[] dst, int offset, int n) {
        for (int k = 0; k < n; k++) {
            dst[offset + k] = get(from + k);
        }
    }

    /** @return the number of tokens */
    public long size() {
        return size;
    }

    /** @return bytes per token (2 or 4) */
    public int width() {
        return width;
    }

    /** @return the SHA-256 of the text it was made from */
    public String sourceHash() {
        return sourceHash;
    }

    /** @return the fingerprint of the tokenizer that made it */
    public String tokenizerHash() {
        return tokenizerHash;
    }

    /** @return the file */
    public Path path() {
        return path;
    }
}
