package dev.retain.core.util;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Resetting the process's peak resident memory, so that each run in a JVM measures its own. */
class ResidentMemoryTest {

    private static final long MIB = 1L << 20;

    @TempDir Path tmp;

    @Test
    void resetForgetsAnEarlierPeak() throws Exception {
        assumeTrue(System.getProperty("os.name").startsWith("Linux"), "VmHWM is Linux's");
        // 128 MiB made resident and handed back to the kernel. Not through malloc: the tests run
        // with glibc tunables that keep freed memory in the process (as bin/retain does), so a
        // private mapping of a sparse file is used: writing a byte per page gives the process
        // anonymous copy-on-write pages (nothing reaches the disk), and unmapping frees them.
        long size = 128 * MIB;
        long peakWith;
        try (FileChannel ch = FileChannel.open(tmp.resolve("sparse"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {0}), size - 1);
            MappedByteBuffer b = ch.map(FileChannel.MapMode.PRIVATE, 0, size);
            long before = ResidentMemory.currentBytes();
            for (int i = 0; i < size; i += 4096) {
                b.put(i, (byte) 1);
            }
            long during = ResidentMemory.currentBytes();
            assertTrue(during - before >= size * 3 / 4, "the pages became resident: "
                    + before / MIB + " -> " + during / MIB + " MiB");
            peakWith = ResidentMemory.peakBytes();
            unmap(b);
        }
        long rssAfter = ResidentMemory.currentBytes();
        assertTrue(peakWith - rssAfter >= size / 2, "unmapping freed them: peak "
                + peakWith / MIB + " MiB, resident now " + rssAfter / MIB + " MiB");
        long peakKept = ResidentMemory.peakBytes();
        // The kernel's counters are per-CPU approximations, so "stays" is to within a few MiB.
        assertTrue(peakKept >= peakWith - 8 * MIB, "without a reset the peak stays: "
                + peakWith / MIB + " -> " + peakKept / MIB + " MiB");
        assertTrue(ResidentMemory.resetPeak(), "/proc/self/clear_refs is writable on Linux");
        long peakAfter = ResidentMemory.peakBytes();
        // The reset peak is the resident size at the reset (plus what the JVM touched since),
        // well below the earlier peak that held the 128 MiB.
        assertTrue(peakAfter <= peakWith - size / 2, "after the reset the peak is "
                + peakAfter / MIB + " MiB, the earlier one was " + peakWith / MIB + " MiB");
    }

    @Test
    void peakAfterResetIsNotAboveThePeakBefore() {
        assumeTrue(System.getProperty("os.name").startsWith("Linux"), "VmHWM is Linux's");
        long before = ResidentMemory.peakBytes();
        assertTrue(ResidentMemory.resetPeak());
        long after = ResidentMemory.peakBytes();
        // Equal when the process is at its peak now; other JVM threads may touch a few pages
        // between the reads and the kernel's counters are per-CPU approximations: 8 MiB of slack.
        assertTrue(after > 0 && after <= before + 8 * MIB, before + " -> " + after);
    }

    /** Unmaps a mapped buffer now rather than when the collector gets to it. */
    private static void unmap(MappedByteBuffer b) throws ReflectiveOperationException {
        Class<?> c = Class.forName("sun.misc.Unsafe");
        Field f = c.getDeclaredField("theUnsafe");
        f.setAccessible(true);
        c.getMethod("invokeCleaner", ByteBuffer.class).invoke(f.get(null), b);
    }
}
