package dev.retain.core.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * A zip archive of stored (uncompressed) entries written straight to a file channel, as {@code
 * torch.jit.save} lays out a TorchScript archive: each entry's data may be aligned to 64 bytes
 * (an {@code FB} padding extra field), and ZIP64 records are written where an entry, an offset or
 * the entry count needs them.
 *
 * <p>Why not {@code ZipOutputStream}: it takes bytes through a Java array and computes its own
 * CRC-32 of every entry, so a tensor was read three times before the kernel copied it. Here the
 * caller computes the CRC-32 once and hands the tensor's own memory (a direct buffer) to the
 * channel, which writes it without a copy in Java.
 */
final class StoredZip {

    /** The data alignment of {@code torch.jit.save}. */
    static final int ALIGN = 64;
    private static final long MAX32 = 0xFFFFFFFFL;
    /** 2000-01-01 12:00:00 in MS-DOS form: the same bytes for the same values, in any time zone. */
    private static final int DOS_DATE = (20 << 9) | (1 << 5) | 1;
    private static final int DOS_TIME = 12 << 11;

    /**
     * @return the entries' time as {@link java.util.zip.ZipEntry#getTime} reads it back (MS-DOS
     *     times are local)
     */
    static long fixedTime() {
        return java.time.LocalDateTime.of(2000, 1, 1, 12, 0)
                .atZone(java.time.ZoneId.systemDefault()).toInstant().toEpochMilli();
    }

    private final FileChannel out;
    private final List<Entry> entries = new ArrayList<>();
    private final ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
    private long pos;

    private record Entry(byte[] name, long offset, long size, long crc) {}

    /**
     * @param out the file, written from its current position
     * @throws IOException when its position cannot be read
     */
    StoredZip(FileChannel out) throws IOException {
        this.out = out;
        this.pos = out.position();
    }

    /**
     * Adds an entry holding {@code data} (its remaining bytes; its position is not moved).
     *
     * @param name the entry's name
     * @param data the bytes, e.g. a tensor's own memory
     * @param crc their CRC-32
     * @param align whether the data starts at a multiple of {@link #ALIGN}
     * @throws IOException when writing fails
     */
    void add(String name, ByteBuffer data, long crc, boolean align) throws IOException {
        header(name, data.remaining(), crc, align);
        write(data.duplicate());
    }

    /**
     * Adds an entry of {@code size} zero bytes.
     *
     * @param name the entry's name
     * @param size how many
     * @param align whether the data starts at a multiple of {@link #ALIGN}
     * @throws IOException when writing fails
     */
    void addZeros(String name, long size, boolean align) throws IOException {
        CRC32 crc = new CRC32();
        for (long left = size; left > 0; ) {
            int n = (int) Math.min(zeros.capacity(), left);
            crc.update(zeros.duplicate().limit(n));
            left -= n;
        }
        header(name, size, crc.getValue(), align);
        for (long left = size; left > 0; ) {
            int n = (int) Math.min(zeros.capacity(), left);
            write(zeros.duplicate().limit(n));
            left -= n;
        }
    }

    /** Writes a local file header, with ZIP64 sizes when needed and the alignment padding. */
    private void header(String name, long size, long crc, boolean align) throws IOException {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        boolean big = size >= MAX32;
        int zip64 = big ? 20 : 0;
        int pad = 0;
        if (align) {
            long start = pos + 30 + n.length + zip64 + 4;
            pad = (int) ((ALIGN - start % ALIGN) % ALIGN);
        }
        int extra = zip64 + (align ? 4 + pad : 0);
        ByteBuffer h = buffer(30 + n.length + extra);
        h.putInt(0x04034b50).putShort((short) (big ? 45 : 20)).putShort((short) 0)
                .putShort((short) 0).putShort((short) DOS_TIME).putShort((short) DOS_DATE)
                .putInt((int) crc).putInt((int) (big ? MAX32 : size))
                .putInt((int) (big ? MAX32 : size)).putShort((short) n.length)
                .putShort((short) extra).put(n);
        if (big) {
            h.putShort((short) 1).putShort((short) 16).putLong(size).putLong(size);
        }
        if (align) {
            h.put((byte) 'F').put((byte) 'B').putShort((short) pad).put(new byte[pad]);
        }
        entries.add(new Entry(n, pos, size, crc));
        write(h.flip());
    }

    /**
     * Writes the central directory and the end records; the channel stays open.
     *
     * @throws IOException when writing fails
     */
    void finish() throws IOException {
        long cdStart = pos;
        for (Entry e : entries) {
            boolean bigSize = e.size >= MAX32;
            boolean bigOffset = e.offset >= MAX32;
            int zip64 = (bigSize ? 16 : 0) + (bigOffset ? 8 : 0);
            int extra = zip64 > 0 ? 4 + zip64 : 0;
            ByteBuffer c = buffer(46 + e.name.length + extra);
            c.putInt(0x02014b50).putShort((short) (zip64 > 0 ? 45 : 20))
                    .putShort((short) (zip64 > 0 ? 45 : 20)).putShort((short) 0)
                    .putShort((short) 0).putShort((short) DOS_TIME).putShort((short) DOS_DATE)
                    .putInt((int) e.crc).putInt((int) (bigSize ? MAX32 : e.size))
                    .putInt((int) (bigSize ? MAX32 : e.size)).putShort((short) e.name.length)
                    .putShort((short) extra).putShort((short) 0).putShort((short) 0)
                    .putShort((short) 0).putInt(0).putInt((int) (bigOffset ? MAX32 : e.offset))
                    .put(e.name);
            if (zip64 > 0) {
                c.putShort((short) 1).putShort((short) zip64);
                if (bigSize) {
                    c.putLong(e.size).putLong(e.size);
                }
                if (bigOffset) {
                    c.putLong(e.offset);
                }
            }
            write(c.flip());
        }
        long cdSize = pos - cdStart;
        boolean zip64 = entries.size() >= 0xFFFF || cdStart >= MAX32 || cdSize >= MAX32;
        if (zip64) {
            long recordAt = pos;
            ByteBuffer r = buffer(56 + 20);
            r.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45)
                    .putInt(0).putInt(0).putLong(entries.size()).putLong(entries.size())
                    .putLong(cdSize).putLong(cdStart);
            r.putInt(0x07064b50).putInt(0).putLong(recordAt).putInt(1);
            write(r.flip());
        }
        ByteBuffer end = buffer(22);
        int count = zip64 ? 0xFFFF : entries.size();
        end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) count)
                .putShort((short) count).putInt((int) (zip64 ? MAX32 : cdSize))
                .putInt((int) (zip64 ? MAX32 : cdStart)).putShort((short) 0);
        write(end.flip());
    }

    private static ByteBuffer buffer(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void write(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            pos += out.write(b);
        }
    }
}
