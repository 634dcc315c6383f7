package dev.retain.eval.tasks;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The few Python string operations that lm-evaluation-harness's definitions rest on, with
 * Python's meaning rather than Java's: which characters are white space ({@code str.isspace},
 * {@code re}'s {@code \s}), {@code rstrip}, {@code strip}, {@code capitalize}, {@code len} (code
 * points, not UTF-16 units) and {@code len(re.split(r"\s+", s))}.
 */
public final class PyText {

    private PyText() {}

    /**
     * Python's white space: the characters for which {@code str.isspace()} is true, which are also
     * those {@code \s} matches in a {@code str} pattern. Unlike Java's {@link
     * Character#isWhitespace} it includes the no-break spaces (U+00A0, U+2007, U+202F) and U+0085.
     *
     * @param cp a code point
     * @return whether Python counts it as white space
     */
    public static boolean isSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85
                || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a)
                || cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
    }

    /**
     * How many characters {@code s.rstrip()} removes, in UTF-16 units (every Python white-space
     * character is one unit).
     *
     * @param s a string
     * @return the length of its trailing white space
     */
    public static int trailingSpace(String s) {
        int n = 0;
        for (int i = s.length() - 1; i >= 0 && isSpace(s.charAt(i)); i--) {
            n++;
        }
        return n;
    }

    /**
     * @param s a string
     * @return Python's {@code s.strip()}
     */
    public static String strip(String s) {
        int from = 0;
        while (from < s.length() && isSpace(s.charAt(from))) {
            from++;
        }
        return s.substring(from, s.length() - trailingSpace(s.substring(from)));
    }

    /**
     * Python's {@code s.capitalize()}: the first character in title case, the rest in lower case.
     *
     * @param s a string
     * @return the capitalized string
     */
    public static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int first = s.codePointAt(0);
        int n = Character.charCount(first);
        return new StringBuilder().appendCodePoint(Character.toTitleCase(first))
                .append(s.substring(n).toLowerCase(Locale.ROOT)).toString();
    }

    /**
     * Python's {@code len(s)}: code points.
     *
     * @param s a string
     * @return its length in code points
     */
    public static int length(String s) {
        return s.codePointCount(0, s.length());
    }

    /**
     * @param s a string
     * @return its length in UTF-8 bytes ({@code len(s.encode("utf-8"))})
     */
    public static long utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /**
     * The harness's word count, {@code len(re.split(r"\s+", s))}: the pieces between runs of
     * white space, counting an empty piece before leading and after trailing white space (so
     * {@code " a b "} has 4 and {@code ""} has 1).
     *
     * @param s a string
     * @return the number of pieces
     */
    public static long splitWhitespaceCount(String s) {
        long pieces = 1;
        boolean inSpace = false;
        for (int i = 0; i < s.length(); i++) {
            boolean sp = isSpace(s.charAt(i));
            if (sp && !inSpace) {
                pieces++;
            }
            inSpace = sp;
        }
        return pieces;
    }
}
