package dev.retain.eval.report;

import dev.retain.eval.forgotten.DomainComparison;
import dev.retain.eval.forgotten.Histogram;
import dev.retain.eval.forgotten.Passage;
import dev.retain.eval.forgotten.TokenStat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Lays one domain's {@link DomainComparison} out as report blocks: the passages whose NLL rose
 * and fell most, coloured token by token, then forgetting events, transitions, the tokens and
 * words that rose most, and the histogram. Used by the report's "What was forgotten" section and
 * by the page of {@code retain forgotten} / {@code retain eval --compare}.
 */
final class ForgottenSection {

    /** Upper edges of the colour steps of an NLL change, nats; the last step is open. */
    static final double[] EDGES = {-3, -1.5, -0.5, -0.1, 0.1, 0.5, 1.5, 3};

    private ForgottenSection() {}

    /**
     * @param change an NLL change, nats
     * @return its step on the diverging scale: 0 (fell 3 or more) to 8 (rose 3 or more)
     */
    static int shade(double change) {
        int i = 0;
        while (i < EDGES.length && change >= EDGES[i]) {
            i++;
        }
        return i;
    }

    /**
     * The colour scale as shaded text.
     *
     * @return the legend block
     */
    static Doc.Shaded legend() {
        List<Doc.Span> spans = new ArrayList<>();
        for (int i = 0; i <= EDGES.length; i++) {
            String range = i == 0 ? "fell " + num(-EDGES[0]) + "+"
                    : i == EDGES.length ? "rose " + num(EDGES[i - 1]) + "+"
                    : "[" + num(EDGES[i - 1]) + ", " + num(EDGES[i]) + ")";
            spans.add(new Doc.Span(" " + range + " ", i, "NLL change after - before, nats"));
            spans.add(new Doc.Span(" ", -1, null));
        }
        return new Doc.Shaded("Colour = NLL change of the token, after - before (nats); blue:"
                + " the later model predicts it better, red: worse; grey: context, not scored."
                + " Hover a token for its NLL before and after and each model's top prediction.",
                spans);
    }

    /**
     * Adds one domain's comparison.
     *
     * @param doc the document
     * @param c the comparison
     * @param before the first model's label
     * @param after the second's
     */
    static void write(Doc doc, DomainComparison c, String before, String after) {
        doc.paragraph(String.format(Locale.ROOT, "%s, %s -> %s: %s tokens in %d windows; mean"
                + " NLL %.4f -> %.4f nats (perplexity %s -> %s), change %+.4f per token%s.",
                Visible.text(c.domain()), before, after, Fmt.count(c.tokens()), c.windows(),
                c.meanBefore(),
                c.meanAfter(), Fmt.ppl(Math.exp(c.meanBefore())),
                Fmt.ppl(Math.exp(c.meanAfter())), c.meanChange(), c.complete()
                        ? " (every evaluated window: the change of the domain's mean NLL)"
                        : " (the first windows of the evaluation only)"));
        int i = 1;
        for (Passage p : c.rose()) {
            doc.add(passage("Rose most, " + i++ + ": ", p));
        }
        if (!c.rose().isEmpty() || !c.fell().isEmpty()) {
            doc.add(legend());
        }
        List<Doc.Block> fell = new ArrayList<>();
        i = 1;
        for (Passage p : c.fell()) {
            fell.add(passage("Fell most, " + i++ + ": ", p));
        }
        if (!fell.isEmpty()) {
            doc.add(new Doc.Details("Passages whose NLL fell most (" + after + " predicts them"
                    + " better)", fell));
        }
        doc.table(events(c, before, after));
        doc.table(transitions(c));
        doc.table(stats("Tokens whose summed NLL rose most", "token", c.tokensRose()));
        doc.table(stats("Words whose summed NLL rose most", "word", c.wordsRose()));
        doc.table(eventTokens(c));
        histogram(doc, c);
    }

    static Doc.Shaded passage(String prefix, Passage p) {
        List<Doc.Span> spans = new ArrayList<>();
        for (Passage.Token t : p.tokens()) {
            if (t.text().isEmpty()) {
                continue; // the later bytes of a character that an earlier token began
            }
            String text = Visible.text(t.text());
            if (!t.scored()) {
                spans.add(new Doc.Span(text, -1, "context (position " + t.position()
                        + ", not scored)"));
                continue;
            }
            String title = String.format(Locale.ROOT, "%s  NLL %.3f -> %.3f (%+.3f)  top"
                    + " prediction %s%s -> %s%s", Visible.token(t.text()), t.nllBefore(),
                    t.nllAfter(), t.change(), Visible.token(t.topBefore()),
                    t.rightBefore() ? " (right)" : "", Visible.token(t.topAfter()),
                    t.rightAfter() ? " (right)" : "");
            spans.add(new Doc.Span(text, shade(t.change()), title));
        }
        long last = p.start() + p.tokens().get(p.tokens().size() - 1).position();
        String caption = String.format(Locale.ROOT, "%swindow %d (tokens %,d to %,d of the"
                + " split), mean NLL %.3f -> %.3f (%+.3f) over %d tokens", prefix, p.window(),
                p.start() + p.tokens().get(0).position(), last, p.meanBefore(), p.meanAfter(),
                p.meanChange(), p.scored());
        return new Doc.Shaded(caption, spans);
    }

    private static Doc.Table events(DomainComparison c, String before, String after) {
        long n = c.tokens();
        List<List<String>> rows = List.of(
                row("forgotten: right -> wrong", c.forgotten(), n),
                row("learned: wrong -> right", c.learned(), n),
                row("right in both", c.rightRight(), n),
                row("wrong in both", c.wrongWrong(), n));
        return new Doc.Table("Forgetting events (right = the model's top prediction is the"
                + " token; " + before + " -> " + after + ")", List.of("event", "tokens", "share"),
                rows);
    }

    private static Doc.Table transitions(DomainComparison c) {
        long n = c.tokens();
        double t = c.settings().threshold();
        List<List<String>> rows = List.of(row("low -> low", c.lowLow(), n),
                row("low -> high (lost)", c.lowHigh(), n),
                row("high -> low (gained)", c.highLow(), n),
                row("high -> high", c.highHigh(), n));
        return new Doc.Table(String.format(Locale.ROOT, "Token transitions (low = NLL below %s"
                + " nats, the model gives the token a probability above %.3f)", num(t),
                Math.exp(-t)), List.of("transition", "tokens", "share"), rows);
    }

    private static List<String> row(String what, long k, long n) {
        return List.of(what, Fmt.count(k), Fmt.fixed(100.0 * k / n, 1) + " %");
    }

    private static Doc.Table stats(String caption, String what, List<TokenStat> stats) {
        List<List<String>> rows = new ArrayList<>();
        for (TokenStat s : stats) {
            rows.add(List.of(Visible.token(s.text()), Fmt.count(s.count()),
                    Fmt.signed(s.sumChange(), 2), Fmt.signed(s.meanChange(), 3),
                    Fmt.fixed(s.meanBefore(), 3), Fmt.fixed(s.meanAfter(), 3)));
        }
        return new Doc.Table(caption + (rows.isEmpty() ? ": none rose" : ""),
                List.of(what, "count", "summed change", "mean change", "mean NLL before",
                        "mean NLL after"), rows);
    }

    private static Doc.Table eventTokens(DomainComparison c) {
        List<List<String>> rows = new ArrayList<>();
        int n = Math.max(c.forgottenTokens().size(), c.learnedTokens().size());
        for (int i = 0; i < n; i++) {
            TokenStat f = i < c.forgottenTokens().size() ? c.forgottenTokens().get(i) : null;
            TokenStat l = i < c.learnedTokens().size() ? c.learnedTokens().get(i) : null;
            rows.add(List.of(f == null ? "" : Visible.token(f.text()),
                    f == null ? "" : Fmt.count(f.count()),
                    l == null ? "" : Visible.token(l.text()),
                    l == null ? "" : Fmt.count(l.count())));
        }
        return new Doc.Table("Tokens most often forgotten and learned", List.of("forgotten",
                "times", "learned", "times"), rows);
    }

    private static void histogram(Doc doc, DomainComparison c) {
        long[] counts = c.histogram().counts();
        List<String> labels = new ArrayList<>();
        double[][] values = new double[1][counts.length];
        List<List<String>> rows = new ArrayList<>();
        for (int i = 0; i < counts.length; i++) {
            labels.add(Histogram.label(i));
            values[0][i] = counts[i];
            rows.add(List.of(Histogram.label(i), Fmt.count(counts[i]),
                    Fmt.fixed(100.0 * counts[i] / c.tokens(), 1) + " %"));
        }
        String title = "Per-token NLL change, " + Visible.text(c.domain());
        doc.chart(title, () -> Charts.groupedBars(title, "after - before, nats; "
                + Fmt.count(c.tokens()) + " tokens", "tokens", List.of("tokens"), labels,
                values), ReportDocument.WIDTH, 320);
        doc.add(new Doc.Details("Histogram of the per-token NLL change as a table",
                List.of(new Doc.Table(null, List.of("change (nats)", "tokens", "share"),
                        rows))));
    }

    private static String num(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }
}
