package dev.retain.core.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;

/**
 * This process's resident memory as Linux reports it in {@code /proc/self/status}: the current
 * resident set size (VmRSS) and its peak (VmHWM), with a reset of the peak so that each run in one
 * JVM measures its own. Every reading is -1 where /proc is missing (other systems).
 */
public final class ResidentMemory {

    /** The highest peak resident size seen just before a {@link #resetPeak()} (-1: none). */
    private static final AtomicLong PEAK_BEFORE_RESETS = new AtomicLong(-1);

    private ResidentMemory() {}

    /**
     * Resets this process's peak resident set size (VmHWM) to its current resident size, so that
     * {@link #peakBytes()} measures the peak from now on rather than since the JVM started. The
     * experiment runner trains every variant in one JVM; without the reset each later variant
     * would report the highest peak of those before it. Linux only: it writes {@code 5} to
     * {@code /proc/self/clear_refs} (see proc(5), "clear_refs", since Linux 4.0).
     *
     * <p>The peak before each reset is remembered, so {@link #processPeakBytes()} still gives
     * the process's own peak.
     *
     * @return true when the counter was reset; false where the file is missing or not writable
     *     (other systems, restricted containers), in which case the peak stays the process's
     */
    public static boolean resetPeak() {
        PEAK_BEFORE_RESETS.accumulateAndGet(peakBytes(), Math::max);
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5", StandardOpenOption.WRITE);
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    /**
     * Peak resident set size of this process (VmHWM), or -1 where /proc is missing: the peak since
     * the JVM started or since the last {@link #resetPeak()}.
     *
     * @return bytes
     */
    public static long peakBytes() {
        return procStatus("VmHWM:");
    }

    /**
     * Peak resident set size of this process since the JVM started, across {@link #resetPeak()}
     * calls, or -1 where /proc is missing.
     *
     * @return bytes
     */
    public static long processPeakBytes() {
        long now = peakBytes();
        return now < 0 ? now : Math.max(now, PEAK_BEFORE_RESETS.get());
    }

    /**
     * Current resident set size of this process (VmRSS), or -1 where /proc is missing.
     *
     * @return bytes
     */
    public static long currentBytes() {
        return procStatus("VmRSS:");
    }

    private static long procStatus(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
