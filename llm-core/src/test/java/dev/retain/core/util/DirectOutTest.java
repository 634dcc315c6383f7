package dev.retain.core.util;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;

/**
 * The direct-I/O writer gives the file, byte for byte and at its exact length, that the expected
 * bytes (built in memory, independently) and the page-cache writer give, across its two buffers'
 * turns, patches in the buffer being filled and behind it, and copies from another file.
 */
class DirectOutTest {

    /** On the build's own disk (target/), as /tmp may be a tmpfs, which takes no direct I/O. */
    private Path dir;

    @BeforeEach
    void makeDir() throws IOException {
        Path target = Path.of("target");
        Files.createDirectories(target);
        dir = Files.createTempDirectory(target, "direct-out-");
    }

    @AfterEach
    void removeDir() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void directWritesTheSameBytesAsThePageCacheAndAsExpected() throws IOException {
        Path source = dir.resolve("source.bin");
        byte[] src = random(11, 3 * DirectOut.CHUNK + 12_345);
        Files.write(source, src);

        Path viaDirect = dir.resolve("direct.bin");
        Path viaCache = dir.resolve("cache.bin");
        byte[] expected;
        try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ)) {
            Files.createFile(viaDirect);
            try (FileChannel ch = FileChannel.open(viaDirect, StandardOpenOption.WRITE);
                    SequentialOut out = direct(viaDirect, ch)) {
                assertTrue(out instanceof DirectOut, "the file system here takes direct I/O");
                expected = script(out, in, src);
                ch.force(true);
            }
            Files.createFile(viaCache);
            try (FileChannel ch = FileChannel.open(viaCache, StandardOpenOption.WRITE);
                    SequentialOut out = DirectOut.of(ch)) {
                assertArrayEquals(expected, script(out, in, src));
            }
        }
        assertEquals(expected.length, Files.size(viaDirect), "cut back to its length");
        assertArrayEquals(expected, Files.readAllBytes(viaDirect));
        assertArrayEquals(expected, Files.readAllBytes(viaCache));
    }

    @Test
    void openTakesThePageCacheForSmallFilesAndWhenTurnedOff() throws IOException {
        Path f = dir.resolve("f.bin");
        Files.createFile(f);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            try (SequentialOut small = DirectOut.open(f, ch, DirectOut.THRESHOLD - 1, null)) {
                assertFalse(small instanceof DirectOut);
            }
            try (DirectIoMode m = DirectIoMode.set("false");
                    SequentialOut off = DirectOut.open(f, ch, DirectOut.THRESHOLD, null)) {
                assertFalse(off instanceof DirectOut);
            }
        }
    }

    @Test
    void aCopyPastTheEndOfItsFileFails() throws IOException {
        Path source = dir.resolve("short.bin");
        Files.write(source, new byte[100]);
        Path f = dir.resolve("out.bin");
        Files.createFile(f);
        try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ);
                FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            try (SequentialOut out = direct(f, ch)) {
                assertThrows(EOFException.class, () -> out.copy(in, 50, 51));
            }
            try (SequentialOut out = DirectOut.of(ch)) {
                assertThrows(EOFException.class, () -> out.copy(in, 50, 51));
            }
        }
    }

    @Test
    void aHashedFileGetsTheDigestOfItsBytesAndRefusesPatchesAndCopies() throws IOException {
        byte[] data = random(21, 2 * DirectOut.CHUNK + DirectOut.CHUNK / 3 + 5); // 3 buffers + padding
        String want = Hashing.sha256(data);
        for (boolean direct : new boolean[] {true, false}) {
            Path f = dir.resolve("hashed-" + direct);
            Files.createFile(f);
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE);
                    SequentialOut out = direct ? direct(f, ch) : DirectOut.of(ch)) {
                java.security.MessageDigest md = Hashing.digest();
                out.hash(md);
                ByteArrayOutputStream ignored = new ByteArrayOutputStream();
                write(out, ignored, java.util.Arrays.copyOfRange(data, 0, 1000));
                write(out, ignored, java.util.Arrays.copyOfRange(data, 1000, data.length));
                assertThrows(IllegalStateException.class,
                        () -> out.patch(0, ByteBuffer.wrap(new byte[1])));
                try (FileChannel in = FileChannel.open(f, StandardOpenOption.READ)) {
                    assertThrows(IllegalStateException.class, () -> out.copy(in, 0, 1));
                }
                out.finish();
                assertEquals(want, Hashing.hex(md), "direct " + direct);
            }
            assertArrayEquals(data, Files.readAllBytes(f));
        }
    }

    @Test
    void aFailedWriteNamesTheFileItWasFor() throws IOException {
        Path f = dir.resolve(".model.pt.tmp");
        Files.createFile(f);
        FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE);
        ch.close(); // every write now fails
        Path target = dir.resolve("model.pt");
        try (SequentialOut out = DirectOut.open(f, ch, 0, target)) {
            IOException e = assertThrows(IOException.class,
                    () -> out.write(ByteBuffer.wrap(new byte[10])));
            assertTrue(e.getMessage().startsWith(target + ": cannot write ("), e.getMessage());
        }
    }

    /** The direct writer itself, whatever the expected size (skipped where direct I/O is refused). */
    private static SequentialOut direct(Path file, FileChannel ch) {
        SequentialOut out = DirectOut.open(file, ch, DirectOut.THRESHOLD, null);
        Assumptions.assumeTrue(out instanceof DirectOut,
                "the file system of target/ takes no direct I/O (e.g. tmpfs)");
        return out;
    }

    /**
     * One fixed sequence of writes, patches and copies; returns the bytes it should leave, built
     * in memory the plain way.
     */
    private static byte[] script(SequentialOut out, FileChannel in, byte[] src) throws IOException {
        ByteArrayOutputStream want = new ByteArrayOutputStream();
        Random r = new Random(5);
        write(out, want, random(1, 30)); // a zip header whose CRC is patched later
        byte[] crc = {9, 8, 7, 6};
        out.patch(14, ByteBuffer.wrap(crc)); // still in the buffer being filled
        write(out, want, random(2, DirectOut.CHUNK - 7)); // the first buffer fills and goes
        long acrossEnd = out.position() - 26; // 3 bytes before the first buffer's end
        write(out, want, random(3, 100));
        copy(out, want, in, src, 1, 2 * DirectOut.CHUNK + 3); // both buffers turn over
        for (int i = 0; i < 50; i++) {
            write(out, want, random(10 + i, r.nextInt(300_000)));
        }
        copy(out, want, in, src, 3 * DirectOut.CHUNK - 10, 5000);
        byte[] got = want.toByteArray();
        System.arraycopy(crc, 0, got, 14, crc.length);
        patch(out, got, 20, new byte[] {5, 4}); // behind the buffers: written after the end
        patch(out, got, acrossEnd, new byte[] {1, 2, 3, 4, 5, 6}); // across a buffer's end
        patch(out, got, out.position() - 3, new byte[] {42, 43, 44}); // the last bytes
        out.finish();
        assertEquals(got.length, out.position());
        return got;
    }

    private static void write(SequentialOut out, ByteArrayOutputStream want, byte[] b)
            throws IOException {
        ByteBuffer direct = ByteBuffer.allocateDirect(b.length).put(b).flip();
        out.write(direct);
        assertFalse(direct.hasRemaining(), "consumed");
        want.writeBytes(b);
    }

    private static void copy(SequentialOut out, ByteArrayOutputStream want, FileChannel in,
            byte[] src, long from, int n) throws IOException {
        out.copy(in, from, n);
        want.write(src, (int) from, n);
    }

    private static void patch(SequentialOut out, byte[] got, long at, byte[] b)
            throws IOException {
        ByteBuffer w = ByteBuffer.wrap(b);
        out.patch(at, w);
        assertEquals(0, w.position(), "not moved");
        System.arraycopy(b, 0, got, (int) at, b.length);
    }

    private static byte[] random(long seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
