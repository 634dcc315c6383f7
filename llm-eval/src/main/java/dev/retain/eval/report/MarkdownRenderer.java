package dev.retain.eval.report;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Renders a {@link Doc} as GitHub-flavoured Markdown (report.md). Charts are left out (they live
 * in report.html). Every text is escaped: Markdown punctuation gets a backslash and {@code < > &}
 * become entities, so a name such as {@code <script>} shows as text and never as HTML.
 */
final class MarkdownRenderer {

    private static final Pattern NUMERIC =
            Pattern.compile("^[-+]?[0-9][0-9,]*(\\.[0-9]+)?(e[-+]?[0-9]+)?( ?(x|%|s|min|h|MB|GB))?"
                    + "( .*)?$|^n/a$");

    private MarkdownRenderer() {}

    /**
     * @param doc the document
     * @return its Markdown
     */
    static String render(Doc doc) {
        StringBuilder sb = new StringBuilder();
        blocks(sb, doc.blocks());
        return sb.toString();
    }

    private static void blocks(StringBuilder sb, List<Doc.Block> blocks) {
        for (Doc.Block b : blocks) {
            if (b instanceof Doc.Heading h) {
                sb.append("#".repeat(h.level())).append(' ').append(escape(h.text()))
                        .append("\n\n");
            } else if (b instanceof Doc.Paragraph p) {
                sb.append(escape(p.text())).append("\n\n");
            } else if (b instanceof Doc.Warnings w) {
                for (String item : w.items()) {
                    sb.append("> **Warning:** ").append(escape(item)).append('\n');
                }
                sb.append('\n');
            } else if (b instanceof Doc.Table t) {
                table(sb, t);
            } else if (b instanceof Doc.Shaded s) {
                shaded(sb, s);
            } else if (b instanceof Doc.Details d) {
                // GitHub shows these two tags as a fold; their text is escaped like any other.
                sb.append("<details><summary>").append(escape(d.summary()))
                        .append("</summary>\n\n");
                blocks(sb, d.blocks());
                sb.append("</details>\n\n");
            }
            // Doc.Chart: charts are in report.html only.
        }
    }

    /**
     * Shaded text on one line: the pieces at the scale's two darkest steps at each end are
     * marked, rising ones in bold, falling ones in italics (Markdown has no colour).
     */
    private static void shaded(StringBuilder sb, Doc.Shaded s) {
        if (s.caption() != null) {
            sb.append(escape(s.caption())).append("\n\n");
        }
        sb.append("> ");
        for (Doc.Span span : s.spans()) {
            String text = escape(span.text());
            String core = text.strip();
            boolean strong = span.shade() >= Doc.SHADES - 2;
            boolean weak = span.shade() >= 0 && span.shade() <= 1;
            if (core.isEmpty() || !(strong || weak)) {
                sb.append(text);
                continue;
            }
            int lead = text.indexOf(core);
            String mark = strong ? "**" : "_";
            sb.append(text, 0, lead).append(mark).append(core).append(mark)
                    .append(text.substring(lead + core.length()));
        }
        sb.append("\n\n");
    }

    private static void table(StringBuilder sb, Doc.Table t) {
        if (t.caption() != null) {
            sb.append("**").append(escape(t.caption())).append("**\n\n");
        }
        row(sb, t.header(), t);
        sb.append('|');
        for (int c = 0; c < t.header().size(); c++) {
            sb.append(numericColumn(t, c) ? " ---: |" : " --- |");
        }
        sb.append('\n');
        for (List<String> r : t.rows()) {
            row(sb, r, t);
        }
        sb.append('\n');
    }

    private static void row(StringBuilder sb, List<String> cells, Doc.Table t) {
        sb.append('|');
        for (int c = 0; c < cells.size(); c++) {
            String cell = cells.get(c);
            sb.append(' ').append(t.codeColumns().contains(c) ? code(cell) : escape(cell))
                    .append(" |");
        }
        sb.append('\n');
    }

    /** A column is right-aligned when every body cell reads as a number. */
    static boolean numericColumn(Doc.Table t, int c) {
        return !t.rows().isEmpty() && c > 0
                && t.rows().stream().allMatch(r -> NUMERIC.matcher(r.get(c)).matches());
    }

    private static String code(String s) {
        // Formulas come from the code, never from users; a code span shows them verbatim.
        return "`" + s.replace("`", "'").replace("|", "\\|") + "`";
    }

    /**
     * Escapes text for Markdown: it renders as the same text, never as markup or HTML.
     * {@code < > &} become entities; backslash, backtick, {@code * [ ] | ~} and an underscore
     * that is not inside a word get a backslash (so no emphasis, link, code span or table cell
     * can start); line breaks become spaces. (The writer never starts a line with escaped
     * text, so block markers such as {@code #} or {@code -} need no escape.)
     *
     * @param s the text
     * @return the escaped text, on one line
     */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '\n', '\r', '\t' -> b.append(' ');
                case '\\', '`', '*', '[', ']', '|', '~' -> b.append('\\').append(ch);
                case '_' -> b.append(i > 0 && i + 1 < s.length()
                        && Character.isLetterOrDigit(s.charAt(i - 1))
                        && Character.isLetterOrDigit(s.charAt(i + 1)) ? "_" : "\\_");
                default -> b.append(Character.isISOControl(ch) ? ' ' : ch);
            }
        }
        return b.toString();
    }
}
