package dev.retain.eval.report;

import org.jfree.chart.JFreeChart;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * A report as plain blocks (headings, paragraphs, tables, charts), built once from a
 * {@link Report} by {@link ReportDocument} and rendered by {@link MarkdownRenderer} and
 * {@link HtmlRenderer}. Blocks hold plain text only: each renderer escapes every string, so no
 * text (a domain name, a path) can become markup.
 */
final class Doc {

    /** One block of the document. */
    sealed interface Block permits Heading, Paragraph, Warnings, Table, Chart, Shaded, Details {}

    /**
     * A heading.
     *
     * @param level 1 to 3
     * @param text the text
     * @param anchor an id made by the writer (never from user text), or null
     */
    record Heading(int level, String text, String anchor) implements Block {}

    /**
     * A paragraph of plain text.
     *
     * @param text the text
     */
    record Paragraph(String text) implements Block {}

    /**
     * Things the reader must know, shown prominently.
     *
     * @param items one line each
     */
    record Warnings(List<String> items) implements Block {}

    /**
     * A table of plain-text cells.
     *
     * @param caption a caption, or null
     * @param header the column names
     * @param rows the rows, each as long as the header
     * @param codeColumns columns shown in a monospace font (formulas)
     */
    record Table(String caption, List<String> header, List<List<String>> rows,
            List<Integer> codeColumns) implements Block {

        Table(String caption, List<String> header, List<List<String>> rows) {
            this(caption, header, rows, List.of());
        }
    }

    /**
     * A chart, drawn only by the HTML renderer.
     *
     * @param title what it shows (also its alt text)
     * @param chart makes the chart
     * @param width pixels
     * @param height pixels
     */
    record Chart(String title, Supplier<JFreeChart> chart, int width, int height)
            implements Block {}

    /**
     * One piece of shaded text: a token shown on a diverging colour scale.
     *
     * @param text the text (shown as text, whatever it holds)
     * @param shade {@code 0..SHADES-1} on the scale, {@code -1} for unshaded context
     * @param title what hovering shows, or null
     */
    record Span(String text, int shade, String title) {}

    /** Steps of the diverging scale of {@link Span#shade()}; the middle one is neutral. */
    static final int SHADES = 9;

    /**
     * Text whose pieces are shaded one by one (a passage coloured token by token).
     *
     * @param caption a line above it
     * @param spans the pieces, in order
     */
    record Shaded(String caption, List<Span> spans) implements Block {

        Shaded {
            spans = List.copyOf(spans);
        }
    }

    /**
     * Blocks folded under a summary line (HTML {@code <details>}), open or closed.
     *
     * @param summary the line shown when folded
     * @param blocks what unfolds
     */
    record Details(String summary, List<Block> blocks) implements Block {

        Details {
            blocks = List.copyOf(blocks);
        }
    }

    private final List<Block> blocks = new ArrayList<>();

    /** @return the blocks in order */
    List<Block> blocks() {
        return blocks;
    }

    Doc heading(int level, String text, String anchor) {
        blocks.add(new Heading(level, text, anchor));
        return this;
    }

    Doc heading(int level, String text) {
        return heading(level, text, null);
    }

    Doc paragraph(String text) {
        blocks.add(new Paragraph(text));
        return this;
    }

    Doc warnings(List<String> items) {
        if (!items.isEmpty()) {
            blocks.add(new Warnings(List.copyOf(items)));
        }
        return this;
    }

    Doc table(Table t) {
        blocks.add(t);
        return this;
    }

    Doc chart(String title, Supplier<JFreeChart> chart, int width, int height) {
        blocks.add(new Chart(title, chart, width, height));
        return this;
    }

    Doc add(Block b) {
        blocks.add(b);
        return this;
    }
}
