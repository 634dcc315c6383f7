package dev.retain.eval.report;

/**
 * Text from data (a domain's documents, a token) made safe to show as itself: characters that
 * would reorder or hide what follows them (bidirectional controls, other control and format
 * characters) are written as {@code <U+202E>}, so a right-to-left override in a document cannot
 * turn the rest of the page around. Escaping for HTML or Markdown is the renderer's, after this.
 */
final class Visible {

    private Visible() {}

    /**
     * For running text: keeps letters of every script, spaces, new lines and tabs.
     *
     * @param s the text
     * @return the text with invisible controls shown by their code point
     */
    static String text(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> {
            if (cp == '\n' || cp == '\t' || !hidden(cp)) {
                b.appendCodePoint(cp);
            } else {
                b.append(String.format("<U+%04X>", cp));
            }
        });
        return b.toString();
    }

    /**
     * For a token on its own (a table cell, a hover text): as {@link #text}, and white space
     * made visible: a space as {@code ␣}, a new line as {@code ↵}, a tab as {@code ⇥}.
     *
     * @param s the token's text
     * @return what to show
     */
    static String token(String s) {
        return text(s).replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥")
                .replace("\r", "<U+000D>");
    }

    private static boolean hidden(int cp) {
        int type = Character.getType(cp);
        return Character.isISOControl(cp) || type == Character.FORMAT
                || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR;
    }
}
