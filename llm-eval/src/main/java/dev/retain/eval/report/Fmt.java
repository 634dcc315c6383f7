package dev.retain.eval.report;

import java.util.Locale;

/** Number formatting shared by the text, Markdown and HTML writers ({@code n/a} for NaN). */
final class Fmt {

    /** What an undefined value shows as. */
    static final String NA = "n/a";

    private Fmt() {}

    /** @return {@code v} with {@code decimals} decimals */
    static String fixed(double v, int decimals) {
        return Double.isNaN(v) ? NA : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    /** @return {@code v} with a sign and {@code decimals} decimals */
    static String signed(double v, int decimals) {
        return Double.isNaN(v) ? NA : String.format(Locale.ROOT, "%+." + decimals + "f", v);
    }

    /** @return a perplexity: 2 decimals below 100, 1 below 10,000, else none */
    static String ppl(double v) {
        return fixed(v, Math.abs(v) < 100 ? 2 : Math.abs(v) < 10_000 ? 1 : 0);
    }

    /** @return a ratio such as {@code 1.80x} */
    static String ratio(double v) {
        return Double.isNaN(v) ? NA : String.format(Locale.ROOT, "%.2fx", v);
    }

    /** @return a share such as {@code 62%} */
    static String percent(double v) {
        return Double.isNaN(v) ? NA : String.format(Locale.ROOT, "%.0f%%", 100 * v);
    }

    /** @return a small positive quantity in scientific notation */
    static String sci(double v) {
        return Double.isNaN(v) ? NA : String.format(Locale.ROOT, "%.2e", v);
    }

    /** @return seconds, e.g. {@code 134.6 s} or {@code 1.2 h} */
    static String seconds(double s) {
        if (Double.isNaN(s)) {
            return NA;
        }
        return s < 600 ? fixed(s, 1) + " s" : s < 7200 ? fixed(s / 60, 1) + " min"
                : fixed(s / 3600, 2) + " h";
    }

    /** @return bytes in MB or GB, {@code n/a} when negative (not measured) */
    static String bytes(long b) {
        return b < 0 ? NA : b < 1e9 ? fixed(b / 1e6, 1) + " MB" : fixed(b / 1e9, 2) + " GB";
    }

    /**
     * A list for one readable line: the first items, then how many more.
     *
     * @param items the items
     * @param max how many to name
     * @return e.g. {@code a, b, c and 9,997 more}
     */
    static String list(java.util.List<String> items, int max) {
        if (items.size() <= max) {
            return String.join(", ", items);
        }
        return String.join(", ", items.subList(0, max)) + " and " + count(items.size() - max)
                + " more";
    }

    /** @return a whole number with thousands separators */
    static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }
}
