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
    /** Length of a SHA-256 in hex: the source hash of a file written id by id. */
    private static final int SHA256_HEX = 64;

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
        try (Writer w = new Writer(AtomicFiles.open(path), vocabSize <= 65536 ? 2 : 4,
                tokenizerHash, sourceHash.getBytes(StandardCharsets.UTF_8).length)) {
            for (int id : ids) {
                w.add(id);
            }
            w.commit(sourceHash);
        }
    }

    /**
     * Starts writing a token file whose length is not known yet (a split tokenized document by
     * document): ids are streamed to a temporary file, and {@link Writer#commit} writes the header
     * and publishes the file atomically.
     *
     * @param path the target file
     * @param vocabSize the vocabulary size (decides uint16 or int32)
     * @param tokenizerHash fingerprint of the tokenizer
     * @return the writer; closing it without a commit leaves {@code path} untouched
     * @throws IOException when the temporary file cannot be created
     */
    public static Writer writer(Path path, int vocabSize, String tokenizerHash)
            throws IOException {
        return new Writer(AtomicFiles.open(path), vocabSize <= 65536 ? 2 : 4, tokenizerHash,
                SHA256_HEX);
    }

    /** A token file being written: ids appended one by one, the header written at the end. */
    public static final class Writer implements AutoCloseable {

        private final AtomicFiles.Pending file;
        private final int width;
        private final String tokenizerHash;
        private final int sourceHashBytes;
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        private long count;
        private boolean started;

        private Writer(AtomicFiles.Pending file, int width, String tokenizerHash,
                int sourceHashBytes) {
            this.file = file;
            this.width = width;
            this.tokenizerHash = tokenizerHash;
            this.sourceHashBytes = sourceHashBytes;
        }

        /**
         * Appends one id.
         *
         * @param id the token id
         * @throws IOException when writing fails
         */
        public void add(int id) throws IOException {
            if (!started) {
                start();
            }
            if (buf.remaining() < width) {
                flush();
            }
            if (width == 2) {
                buf.putShort((short) id);
            } else {
                buf.putInt(id);
            }
            count++;
        }

        /** @return ids added so far */
        public long count() {
            return count;
        }

        /** Leaves room for the header, written by commit once the count is known. */
        private void start() throws IOException {
            started = true;
            ByteBuffer room = ByteBuffer.allocate(headerSize());
            while (room.hasRemaining()) {
                file.channel().write(room);
            }
        }

        private int headerSize() {
            return 20 + 4 + sourceHashBytes + 4
                    + tokenizerHash.getBytes(StandardCharsets.UTF_8).length;
        }

        private void flush() throws IOException {
            buf.flip();
            while (buf.hasRemaining()) {
                file.channel().write(buf);
            }
            buf.clear();
        }

        /**
         * Writes the header and publishes the file.
         *
         * @param sourceHash SHA-256 of the text the ids were made from (64 hex digits when ids
         *     were added one by one)
         * @throws IOException when writing fails
         */
        public void commit(String sourceHash) throws IOException {
            byte[] src = sourceHash.getBytes(StandardCharsets.UTF_8);
            if (src.length != sourceHashBytes) {
                throw new IllegalArgumentException("a source hash of " + src.length + " bytes"
                        + " where " + sourceHashBytes + " were reserved");
            }
            if (!started) {
                start();
            }
            flush();
            byte[] tok = tokenizerHash.getBytes(StandardCharsets.UTF_8);
            ByteBuffer head = ByteBuffer.allocate(headerSize())
                    .order(ByteOrder.LITTLE_ENDIAN);
            head.putInt(MAGIC).putInt(VERSION).putInt(width).putLong(count);
            head.putInt(src.length).put(src).putInt(tok.length).put(tok).flip();
            long at = 0;
            while (head.hasRemaining()) {
                at += file.channel().write(head, at);
            }
            file.commit();
        }

        /** Removes the temporary file unless committed. */
        @Override
        public void close() throws IOException {
            file.close();
        }
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
