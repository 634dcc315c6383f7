package dev.retain.core.util;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * A progress line on stderr for work that takes more than a couple of seconds.
 *
 * <p>Nothing is printed during the first two seconds, so quick work stays silent. On a terminal the
 * line is redrawn in place; otherwise (a log file, CI) a line is printed at most every 10 seconds.
 */
public final class Progress implements AutoCloseable {

    private static final long QUIET_NANOS = 2_000_000_000L;

    private final PrintStream out;
    private final String label;
    private final long total;
    private final boolean enabled;
    private final boolean tty;
    private final long start = System.nanoTime();
    private long lastPrint;
    private long done;
    private boolean printed;
    private Supplier<String> detail = () -> "";

    /**
     * Starts a progress line.
     *
     * @param label what is being done, e.g. {@code "eval computing"}
     * @param total units of work in all (0 when unknown)
     * @param enabled false to print nothing (e.g. {@code --quiet})
     */
    public Progress(String label, long total, boolean enabled) {
        this.out = System.err;
        this.label = label;
        this.total = total;
        this.enabled = enabled;
        this.tty = System.console() != null;
    }

    /**
     * Sets a supplier of extra text shown after the counts (loss, tokens/s, ...).
     *
     * @param detail the supplier
     * @return this
     */
    public Progress detail(Supplier<String> detail) {
        this.detail = detail;
        return this;
    }

    /**
     * Records that {@code n} more units are done.
     *
     * @param n units
     */
    public void advance(long n) {
        done += n;
        if (!enabled) {
            return;
        }
        long now = System.nanoTime();
        if (now - start < QUIET_NANOS) {
            return;
        }
        long gap = tty ? 200_000_000L : 10_000_000_000L;
        if (printed && now - lastPrint < gap) {
            return;
        }
        print(now, false);
    }

    private void print(long now, boolean last) {
        lastPrint = now;
        printed = true;
        double secs = (now - start) / 1e9;
        StringBuilder sb = new StringBuilder(label).append(' ');
        if (total > 0) {
            int width = 24;
            int filled = (int) Math.min(width, width * done / total);
            sb.append('[').append("#".repeat(filled)).append(".".repeat(width - filled))
                    .append("] ").append(done).append('/').append(total);
            if (!last && done > 0) {
                double eta = secs * (total - done) / done;
                sb.append(String.format(Locale.ROOT, " eta %s", clock(eta)));
            }
        } else {
            sb.append(done);
        }
        sb.append(String.format(Locale.ROOT, " %s", clock(secs)));
        String d = detail.get();
        if (!d.isEmpty()) {
            sb.append("  ").append(d);
        }
        if (tty) {
            out.print("\r" + sb + "\u001b[K" + (last ? "\n" : ""));
        } else {
            out.println(sb);
        }
        out.flush();
    }

    /**
     * Formats seconds as {@code m:ss} or {@code h:mm:ss}.
     *
     * @param secs seconds
     * @return the clock string
     */
    public static String clock(double secs) {
        long s = Math.max(0, Math.round(secs));
        if (s >= 3600) {
            return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
        }
        return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    @Override
    public void close() {
        if (enabled && printed) {
            print(System.nanoTime(), true);
        }
    }
}
