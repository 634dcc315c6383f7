package dev.retain.bench;

import java.util.Arrays;

/** Order statistics of timings (medians resist the outliers a shared machine produces). */
public final class Stats {

    private Stats() {}

    /**
     * The median (the mean of the two middle values for an even count).
     *
     * @param xs values, not changed
     * @return the median, NaN when there are none
     */
    public static double median(double[] xs) {
        if (xs.length == 0) {
            return Double.NaN;
        }
        double[] s = xs.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }

    /**
     * The smallest value.
     *
     * @param xs values
     * @return the minimum, NaN when there are none
     */
    public static double min(double[] xs) {
        return xs.length == 0 ? Double.NaN : Arrays.stream(xs).min().getAsDouble();
    }

    /**
     * The q-quantile by linear interpolation between order statistics.
     *
     * @param xs values
     * @param q in [0, 1]
     * @return the quantile, NaN when there are none
     */
    public static double quantile(double[] xs, double q) {
        if (xs.length == 0) {
            return Double.NaN;
        }
        double[] s = xs.clone();
        Arrays.sort(s);
        double pos = q * (s.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(s.length - 1, lo + 1);
        return s[lo] + (pos - lo) * (s[hi] - s[lo]);
    }

    /**
     * Concatenates arrays.
     *
     * @param parts arrays
     * @return one array with all values in order
     */
    public static double[] concat(double[]... parts) {
        int n = 0;
        for (double[] p : parts) {
            n += p.length;
        }
        double[] out = new double[n];
        int at = 0;
        for (double[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /**
     * A ratio that is NaN rather than infinite when the denominator is not positive.
     *
     * @param a numerator
     * @param b denominator
     * @return a / b, or NaN
     */
    public static double ratio(double a, double b) {
        return b > 0 && Double.isFinite(a) && Double.isFinite(b) ? a / b : Double.NaN;
    }
}
