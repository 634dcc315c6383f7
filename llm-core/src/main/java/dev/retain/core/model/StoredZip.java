package dev.retain.core.model;

import dev.retain.core.util.SequentialOut;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * Writes a zip archive of stored (uncompressed) entries to a file ({@link SequentialOut}), as
 * {@code torch.jit.save} writes a TorchScript archive: each entry's data aligned to 64 bytes (a {@code
 * FB} extra field of padding), Zip64 records where an offset or a size passes 4 GiB (a GPT-2 XL
 * archive is 6 GB). An entry's bytes are streamed in: its local header is written with the
 * CRC-32 left open and completed when the entry ends, so no entry is ever held in memory whole
 * and the data is read once ({@link java.util.zip.ZipOutputStream} needs the CRC before the
 * data of a stored entry); or, where the CRC is known first, the data is copied into the
 * file by the caller.
 */
final class StoredZip {

    private static final int ALIGN = 64;
    private static final long MAX32 = 0xFFFFFFFFL;
    /** 2000-01-01 12:00 in MS-DOS form, as {@link TorchScriptArchive} writes (fixed bytes). */
    private static final int DOS_TIME = 12 << 11;
    private static final int DOS_DATE = (2000 - 1980) << 9 | 1 << 5 | 1;

    private final SequentialOut out;
    private final List<Entry> entries = new ArrayList<>();
    private Entry open;
    private final CRC32 crc = new CRC32();
    private long written;

    private record Entry(byte[] name, long header, long size, long[] crc) {}

    /**
     * @param out where the archive goes, from its position 0 on
     */
    StoredZip(SequentialOut out) {
        this.out = out;
    }

    /**
     * Writes a whole small entry.
     *
     * @param name the entry's name
     * @param data its bytes
     * @throws IOException when writing fails
     */
    void put(String name, byte[] data) throws IOException {
        CRC32 c = new CRC32();
        c.update(data);
        put(name, ByteBuffer.wrap(data), c.getValue()); // no patch: the file may be hashed
    }

    /**
     * Starts an entry of a known size; its bytes follow through {@link #write}, then {@link #end}.
     *
     * @param name the entry's name
     * @param size its length in bytes
     * @throws IOException when writing fails
     */
    void begin(String name, long size) throws IOException {
        header(name, size, 0);
        crc.reset();
        written = 0;
    }

    /** Writes an entry's data straight to the archive. */
    @FunctionalInterface
    interface Transfer {
        /**
         * @param out the archive, at the entry's first data byte
         * @throws IOException when writing fails
         */
        void to(SequentialOut out) throws IOException;
    }

    /**
     * Writes an entry whose CRC-32 is known before its data, the data copied by the caller
     * straight into the archive (e.g. a range of another file: {@link SequentialOut#copy}).
     *
     * @param name the entry's name
     * @param size its length in bytes
     * @param crc32 the CRC-32 of its data
     * @param data writes exactly {@code size} bytes at the archive's position
     * @throws IOException when writing fails or another number of bytes arrived
     */
    void put(String name, long size, long crc32, Transfer data) throws IOException {
        header(name, size, crc32);
        long start = out.position();
        data.to(out);
        if (out.position() - start != size) {
            throw new IOException(name + ": " + (out.position() - start) + " bytes written, "
                    + size + " announced");
        }
        open.crc[0] = crc32;
        entries.add(open);
        open = null;
    }

    /**
     * Writes an entry from memory whose CRC-32 the caller computed (once): the buffer, e.g. a
     * tensor's own memory, goes to the archive without a copy through a Java array.
     *
     * @param name the entry's name
     * @param data the bytes, from its position to its limit (its position is not moved)
     * @param crc32 their CRC-32
     * @throws IOException when writing fails
     */
    void put(String name, ByteBuffer data, long crc32) throws IOException {
        ByteBuffer d = data.duplicate();
        put(name, d.remaining(), crc32, o -> o.write(d));
    }

    /**
     * Writes an entry of zero bytes (the storages of a module whose values are copied in after
     * it is loaded).
     *
     * @param name the entry's name
     * @param size how many
     * @throws IOException when writing fails
     */
    void putZeros(String name, long size) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocateDirect((int) Math.min(size, 1 << 20));
        CRC32 c = new CRC32();
        for (long left = size; left > 0; left -= Math.min(zeros.capacity(), left)) {
            c.update(zeros.duplicate().limit((int) Math.min(zeros.capacity(), left)));
        }
        put(name, size, c.getValue(), o -> {
            for (long left = size; left > 0; ) {
                ByteBuffer z = zeros.duplicate().limit((int) Math.min(zeros.capacity(), left));
                left -= z.remaining();
                o.write(z);
            }
        });
    }

    /**
     * @return the entries' time as {@link java.util.zip.ZipEntry#getTime} reads it back (MS-DOS
     *     times are local)
     */
    static long fixedTime() {
        return java.time.LocalDateTime.of(2000, 1, 1, 12, 0)
                .atZone(java.time.ZoneId.systemDefault()).toInstant().toEpochMilli();
    }

    private void header(String name, long size, long crc32) throws IOException {
        if (open != null) {
            throw new IllegalStateException(open + " is still open");
        }
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        long header = out.position();
        boolean big = size >= MAX32;
        int zip64 = big ? 20 : 0;
        long dataStart = header + 30 + n.length + zip64 + 4;
        int pad = (int) ((ALIGN - dataStart % ALIGN) % ALIGN);
        ByteBuffer b = le(30 + n.length + zip64 + 4 + pad);
        b.putInt(0x04034b50).putShort((short) (big ? 45 : 20)).putShort((short) 0)
                .putShort((short) 0).putShort((short) DOS_TIME).putShort((short) DOS_DATE)
                .putInt((int) crc32) // 0 when not yet known: end() completes it
                .putInt((int) (big ? MAX32 : size)).putInt((int) (big ? MAX32 : size))
                .putShort((short) n.length).putShort((short) (zip64 + 4 + pad)).put(n);
        if (big) {
            b.putShort((short) 1).putShort((short) 16).putLong(size).putLong(size);
        }
        b.putShort((short) 0x4246).putShort((short) pad).put(new byte[pad]); // "FB", padding
        writeFully(b.flip());
        open = new Entry(n, header, size, new long[1]);
    }

    /**
     * Appends bytes to the open entry.
     *
     * @param data the bytes, from its position to its limit (consumed)
     * @throws IOException when writing fails
     */
    void write(ByteBuffer data) throws IOException {
        written += data.remaining();
        if (written > open.size) {
            throw new IllegalStateException(new String(open.name, StandardCharsets.UTF_8)
                    + ": more than its " + open.size + " bytes");
        }
        crc.update(data.duplicate());
        writeFully(data);
    }

    /**
     * Ends the open entry, filling in its CRC-32.
     *
     * @throws IOException when writing fails or fewer bytes than announced were written
     */
    void end() throws IOException {
        if (written != open.size) {
            throw new IOException(new String(open.name, StandardCharsets.UTF_8) + ": "
                    + written + " bytes written, " + open.size + " announced");
        }
        open.crc[0] = crc.getValue();
        out.patch(open.header + 14, le(4).putInt((int) open.crc[0]).flip());
        entries.add(open);
        open = null;
    }

    /**
     * Writes the central directory and the end records; the archive is then complete, every byte
     * in the file ({@link SequentialOut#finish}).
     *
     * @throws IOException when writing fails
     */
    void finish() throws IOException {
        long cdStart = out.position();
        for (Entry e : entries) {
            boolean bigSize = e.size >= MAX32;
            boolean bigOffset = e.header >= MAX32;
            int extra = (bigSize ? 16 : 0) + (bigOffset ? 8 : 0);
            ByteBuffer b = le(46 + e.name.length + (extra > 0 ? 4 + extra : 0));
            b.putInt(0x02014b50).putShort((short) 45).putShort((short) (extra > 0 ? 45 : 20))
                    .putShort((short) 0).putShort((short) 0).putShort((short) DOS_TIME)
                    .putShort((short) DOS_DATE).putInt((int) e.crc[0])
                    .putInt((int) (bigSize ? MAX32 : e.size))
                    .putInt((int) (bigSize ? MAX32 : e.size)).putShort((short) e.name.length)
                    .putShort((short) (extra > 0 ? 4 + extra : 0)).putShort((short) 0)
                    .putShort((short) 0).putShort((short) 0).putInt(0)
                    .putInt((int) (bigOffset ? MAX32 : e.header)).put(e.name);
            if (extra > 0) {
                b.putShort((short) 1).putShort((short) extra);
                if (bigSize) {
                    b.putLong(e.size).putLong(e.size);
                }
                if (bigOffset) {
                    b.putLong(e.header);
                }
            }
            writeFully(b.flip());
        }
        long cdEnd = out.position();
        long cdSize = cdEnd - cdStart;
        boolean zip64 = cdStart >= MAX32 || entries.size() >= 0xFFFF;
        if (zip64) {
            ByteBuffer b = le(56 + 20);
            b.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0)
                    .putInt(0).putLong(entries.size()).putLong(entries.size()).putLong(cdSize)
                    .putLong(cdStart);
            b.putInt(0x07064b50).putInt(0).putLong(cdEnd).putInt(1);
            writeFully(b.flip());
        }
        ByteBuffer b = le(22);
        int count = (int) Math.min(entries.size(), 0xFFFF);
        b.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) count)
                .putShort((short) count).putInt((int) Math.min(cdSize, MAX32))
                .putInt((int) (zip64 ? MAX32 : cdStart)).putShort((short) 0);
        writeFully(b.flip());
        out.finish();
    }

    private void writeFully(ByteBuffer b) throws IOException {
        out.write(b);
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }
}
