package dev.retain.eval.tasks;

import java.util.regex.Pattern;

/**
 * The text processing of lm-evaluation-harness's tasks, step by step as its Python does it
 * ({@code tasks/hellaswag/utils.py preprocess}, {@code tasks/wikitext/preprocess_wikitext.py
 * wikitext_detokenizer}), with Python's regular-expression meaning ({@code \s} is Python's white
 * space, {@code .} anything but a newline).
 */
final class HarnessText {

    private HarnessText() {}

    /** {@code \s} of a Python {@code str} pattern: the characters {@link PyText#isSpace}. */
    private static final String PY_SPACE =
            "[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";

    /** {@code re.sub("\\[.*?\\]", "", text)}: {@code .} is anything but a newline, as in Python. */
    private static final Pattern BRACKETS = Pattern.compile("\\[.*?\\]", Pattern.UNIX_LINES);

    /**
     * The harness's HellaSwag {@code preprocess}: strip, " [title]" to ". ", drop bracketed
     * artifacts of WikiHow, then one pass of "  " to " ".
     *
     * @param text a text
     * @return the text preprocessed
     */
    static String hellaswag(String text) {
        String t = PyText.strip(text);
        t = t.replace(" [title]", ". ");
        t = BRACKETS.matcher(t).replaceAll("");
        return t.replace("  ", " ");
    }

    private static final Pattern WT_QUOTE_DIGIT = Pattern.compile("/' [0-9]/");
    private static final Pattern WT_PARENS = Pattern.compile(
            "\\(" + PY_SPACE + "*([^\\)]*?)" + PY_SPACE + "*\\)");
    private static final Pattern WT_BRACKETS = Pattern.compile(
            "\\[" + PY_SPACE + "*([^\\]]*?)" + PY_SPACE + "*\\]");
    private static final Pattern WT_BRACES = Pattern.compile(
            "\\{" + PY_SPACE + "*([^}]*?)" + PY_SPACE + "*}");
    private static final Pattern WT_DQUOTES = Pattern.compile(
            "\"" + PY_SPACE + "*([^\"]*?)" + PY_SPACE + "*\"");
    private static final Pattern WT_SQUOTES = Pattern.compile(
            "'" + PY_SPACE + "*([^']*?)" + PY_SPACE + "*'");

    /**
     * The harness's {@code wikitext_detokenizer} ({@code tasks/wikitext/preprocess_wikitext.py}),
     * step by step.
     *
     * @param page the page as stored
     * @return the text scored
     */
    static String wikitext(String page) {
        String s = page.replace("s '", "s'");
        s = WT_QUOTE_DIGIT.matcher(s).replaceAll("/'[0-9]/");
        s = s.replace(" @-@ ", "-").replace(" @,@ ", ",").replace(" @.@ ", ".");
        s = s.replace(" : ", ": ").replace(" ; ", "; ").replace(" . ", ". ")
                .replace(" ! ", "! ").replace(" ? ", "? ").replace(" , ", ", ");
        s = WT_PARENS.matcher(s).replaceAll("($1)");
        s = WT_BRACKETS.matcher(s).replaceAll("[$1]");
        s = WT_BRACES.matcher(s).replaceAll("{$1}");
        s = WT_DQUOTES.matcher(s).replaceAll("\"$1\"");
        s = WT_SQUOTES.matcher(s).replaceAll("'$1'");
        s = s.replace("= = = =", "====").replace("= = =", "===").replace("= =", "==");
        s = s.replace(" \u00b0 ", "\u00b0");
        s = s.replace(" \n", "\n").replace("\n ", "\n");
        s = s.replace(" N ", " 1 ");
        return s.replace(" 's", "'s");
    }
}
