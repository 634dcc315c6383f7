package dev.retain.eval.report;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;

/**
 * Renders a {@link Doc} as one self-contained HTML file (report.html): charts as PNG data URIs,
 * the style sheet inline, no script, no font, nothing fetched. Every text goes through
 * {@link #escape}, and a Content-Security-Policy allows only data: images and the page's own
 * style sheet (by its hash), so even a missed escape could not run a script or reach the network.
 */
final class HtmlRenderer {

    private static final String CSS = String.join("\n",
            "body{font-family:sans-serif;margin:24px auto;max-width:1000px;color:#222;"
                    + "line-height:1.4}",
            "h1{border-bottom:2px solid #4e79a7;padding-bottom:4px}",
            "h2{margin-top:40px;border-bottom:1px solid #ccc;padding-bottom:2px}",
            "table{border-collapse:collapse;margin:8px 0 20px;font-size:13px}",
            "caption{text-align:left;font-weight:bold;padding:4px 0}",
            "th,td{border:1px solid #ccc;padding:3px 8px;vertical-align:top}",
            "th{background:#f0f3f7;text-align:left}",
            "td.num{text-align:right;font-variant-numeric:tabular-nums}",
            "td code{white-space:nowrap}",
            "figure{margin:12px 0 24px}",
            "figure img{max-width:100%;height:auto;border:1px solid #ddd}",
            "figcaption{font-size:12px;color:#555}",
            ".warn{background:#fff4e5;border-left:4px solid #f28e2b;padding:6px 12px}",
            "nav{font-size:14px}",
            "p.tok{white-space:pre-wrap;font-family:monospace;font-size:13px;line-height:1.8;"
                    + "border:1px solid #ddd;padding:6px 8px;margin:4px 0 16px}",
            "p.tok span{unicode-bidi:isolate}",
            "p.cap{font-size:13px;margin:12px 0 0}",
            ".c{color:#999}",
            ".s0{background:#2166ac;color:#fff}.s1{background:#4393c3;color:#fff}",
            ".s2{background:#92c5de}.s3{background:#d1e5f0}.s4{background:#f7f7f7}",
            ".s5{background:#fddbc7}.s6{background:#f4a582}",
            ".s7{background:#d6604d;color:#fff}.s8{background:#b2182b;color:#fff}",
            "details{margin:8px 0 16px}summary{cursor:pointer;font-weight:bold}");

    private HtmlRenderer() {}

    /**
     * @param doc the document
     * @param title the page title
     * @return the whole HTML file
     */
    static String render(Doc doc, String title) {
        StringBuilder sb = new StringBuilder(1 << 20);
        sb.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"
                        + " img-src data:; style-src 'sha256-").append(sha256(CSS))
                .append("'\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>").append(escape(title)).append("</title>\n")
                .append("<style>").append(CSS).append("</style>\n</head>\n<body>\n");
        nav(sb, doc);
        blocks(sb, doc.blocks());
        sb.append("</body>\n</html>\n");
        return sb.toString();
    }

    private static void blocks(StringBuilder sb, List<Doc.Block> blocks) {
        for (Doc.Block b : blocks) {
            if (b instanceof Doc.Heading h) {
                sb.append("<h").append(h.level())
                        .append(h.anchor() == null ? "" : " id=\"" + escape(h.anchor()) + "\"")
                        .append('>').append(escape(h.text())).append("</h").append(h.level())
                        .append(">\n");
            } else if (b instanceof Doc.Paragraph p) {
                sb.append("<p>").append(escape(p.text())).append("</p>\n");
            } else if (b instanceof Doc.Warnings w) {
                sb.append("<div class=\"warn\">\n");
                for (String item : w.items()) {
                    sb.append("<p><strong>Warning:</strong> ").append(escape(item))
                            .append("</p>\n");
                }
                sb.append("</div>\n");
            } else if (b instanceof Doc.Table t) {
                table(sb, t);
            } else if (b instanceof Doc.Chart c) {
                chart(sb, c);
            } else if (b instanceof Doc.Shaded s) {
                shaded(sb, s);
            } else if (b instanceof Doc.Details d) {
                sb.append("<details><summary>").append(escape(d.summary()))
                        .append("</summary>\n");
                blocks(sb, d.blocks());
                sb.append("</details>\n");
            }
        }
    }

    /**
     * Shaded text: one span per piece, its class naming the shade (the style sheet holds the
     * colours: inline styles would need the policy to allow them), its title the hover text. The
     * paragraph is left-to-right and each span isolated, so right-to-left text stays inside its
     * own piece.
     */
    private static void shaded(StringBuilder sb, Doc.Shaded s) {
        if (s.caption() != null) {
            sb.append("<p class=\"cap\">").append(escape(s.caption())).append("</p>\n");
        }
        sb.append("<p class=\"tok\" dir=\"ltr\">");
        for (Doc.Span span : s.spans()) {
            sb.append("<span class=\"").append(span.shade() < 0 ? "c" : "s" + span.shade())
                    .append('"');
            if (span.title() != null) {
                sb.append(" title=\"").append(escape(span.title())).append('"');
            }
            sb.append('>').append(escape(span.text())).append("</span>");
        }
        sb.append("</p>\n");
    }

    /** Links to the sections that have an anchor (anchors are made by the writer). */
    private static void nav(StringBuilder sb, Doc doc) {
        List<Doc.Heading> linked = doc.blocks().stream()
                .filter(b -> b instanceof Doc.Heading h && h.anchor() != null && h.level() == 2)
                .map(b -> (Doc.Heading) b).toList();
        if (linked.size() < 2) {
            return;
        }
        sb.append("<nav>Contents: ");
        for (int i = 0; i < linked.size(); i++) {
            Doc.Heading h = linked.get(i);
            sb.append(i > 0 ? " · " : "").append("<a href=\"#").append(escape(h.anchor()))
                    .append("\">").append(escape(h.text())).append("</a>");
        }
        sb.append("</nav>\n");
    }

    private static void table(StringBuilder sb, Doc.Table t) {
        sb.append("<table>\n");
        if (t.caption() != null) {
            sb.append("<caption>").append(escape(t.caption())).append("</caption>\n");
        }
        sb.append("<thead><tr>");
        for (String h : t.header()) {
            sb.append("<th>").append(escape(h)).append("</th>");
        }
        sb.append("</tr></thead>\n<tbody>\n");
        boolean[] numeric = new boolean[t.header().size()];
        for (int c = 0; c < numeric.length; c++) {
            numeric[c] = MarkdownRenderer.numericColumn(t, c);
        }
        for (List<String> row : t.rows()) {
            sb.append("<tr>");
            for (int c = 0; c < row.size(); c++) {
                String cell = escape(row.get(c));
                sb.append(numeric[c] ? "<td class=\"num\">" : "<td>")
                        .append(t.codeColumns().contains(c) ? "<code>" + cell + "</code>" : cell)
                        .append("</td>");
            }
            sb.append("</tr>\n");
        }
        sb.append("</tbody>\n</table>\n");
    }

    private static void chart(StringBuilder sb, Doc.Chart c) {
        byte[] png = Charts.png(c.chart().get(), c.width(), c.height());
        sb.append("<figure><img width=\"").append(c.width()).append("\" height=\"")
                .append(c.height()).append("\" alt=\"").append(escape(c.title()))
                .append("\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(png)).append("\">")
                .append("<figcaption>").append(escape(c.title())).append("</figcaption></figure>\n");
    }

    /**
     * Escapes text for HTML element content and quoted attribute values.
     *
     * @param s any text, e.g. a domain name
     * @return the text with {@code & < > " '} as character references
     */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(ch);
            }
        }
        return b.toString();
    }

    private static String sha256(String s) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
