package dev.retain.eval.forgotten;

/**
 * A histogram of per-token NLL changes on fixed bins: {@link #WIDTH}-nat bins from {@code -LIMIT}
 * to {@code +LIMIT}, and one open bin at each end.
 *
 * @param counts {@code counts[0]}: changes below {@code -LIMIT}; {@code counts[i]} for {@code
 *     1 <= i <= BINS}: changes in {@code [-LIMIT + (i-1) WIDTH, -LIMIT + i WIDTH)}; the last:
 *     changes of {@code +LIMIT} or more
 */
public record Histogram(long[] counts) {

    /** Bin width, nats. */
    public static final double WIDTH = 0.5;
    /** The closed bins cover {@code [-LIMIT, LIMIT)}. */
    public static final double LIMIT = 5.0;
    /** Closed bins. */
    public static final int BINS = (int) Math.round(2 * LIMIT / WIDTH);

    /** @return an empty histogram */
    public static Histogram empty() {
        return new Histogram(new long[BINS + 2]);
    }

    /**
     * Counts one change.
     *
     * @param change after - before, nats
     */
    public void add(double change) {
        int i;
        if (change < -LIMIT) {
            i = 0;
        } else if (change >= LIMIT) {
            i = BINS + 1;
        } else {
            i = 1 + Math.min(BINS - 1, (int) Math.floor((change + LIMIT) / WIDTH));
        }
        counts[i]++;
    }

    /**
     * @param i a bin
     * @return its label, e.g. {@code [-0.5, 0)}, {@code < -5}, {@code >= 5}
     */
    public static String label(int i) {
        if (i == 0) {
            return "< " + fmt(-LIMIT);
        }
        if (i == BINS + 1) {
            return ">= " + fmt(LIMIT);
        }
        double lo = -LIMIT + (i - 1) * WIDTH;
        return "[" + fmt(lo) + ", " + fmt(lo + WIDTH) + ")";
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }
}
