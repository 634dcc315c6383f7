package dev.retain.eval.report;

import dev.retain.core.util.AtomicFiles;
import dev.retain.core.util.Json;
import dev.retain.eval.forgotten.DomainComparison;
import dev.retain.eval.forgotten.ForgettingView;
import dev.retain.eval.forgotten.TokenStat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Writes a {@link ForgettingView} as a page of its own ({@code retain forgotten}, {@code retain
 * eval --compare}): {@code forgotten.html} (self-contained, no script, as report.html),
 * {@code forgotten.md}, and {@code forgotten.json} (the numbers of every table, for programs).
 * Each file is written atomically.
 */
public final class ForgottenWriter {

    /** The page's file name. */
    public static final String HTML = "forgotten.html";
    /** The Markdown page. */
    public static final String MARKDOWN = "forgotten.md";
    /** The numbers. */
    public static final String JSON = "forgotten.json";

    private ForgottenWriter() {}

    /**
     * @param view the comparison
     * @param dir the folder (created when missing)
     * @return the files written
     * @throws IOException when writing fails
     */
    public static List<Path> write(ForgettingView view, Path dir) throws IOException {
        Files.createDirectories(dir);
        Doc doc = new Doc();
        doc.heading(1, "What was forgotten: " + Visible.text(view.title()), null);
        doc.paragraph("Every scored token of the compared windows, model against model."
                + " Passages are windows of the evaluation protocol (or the part of one document"
                + " where a window holds two); the tokens of every compared domain are in"
                + " tokens-DOMAIN.jsonl beside this page (docs/FORGETTING.md).");
        int i = 0;
        for (ForgettingView.Part p : view.parts()) {
            doc.heading(2, Visible.text(p.comparison().domain()), "d-" + i++);
            ForgottenSection.write(doc, p.comparison(), p.before(), p.after());
        }
        Path html = dir.resolve(HTML);
        Path md = dir.resolve(MARKDOWN);
        Path json = dir.resolve(JSON);
        AtomicFiles.writeString(html, HtmlRenderer.render(doc, "retain: what was forgotten, "
                + view.title()));
        AtomicFiles.writeString(md, MarkdownRenderer.render(doc));
        Json.write(json, json(view));
        return List.of(html, md, json);
    }

    /**
     * The view's numbers as JSON (schema {@code retain.forgotten/1}).
     *
     * @param view the comparison
     * @return the JSON object
     */
    public static ObjectNode json(ForgettingView view) {
        ObjectNode root = Json.object();
        root.put("schema", "retain.forgotten/1");
        root.put("title", view.title());
        ArrayNode domains = root.putArray("domains");
        for (ForgettingView.Part p : view.parts()) {
            DomainComparison c = p.comparison();
            ObjectNode d = domains.addObject();
            d.put("domain", c.domain());
            d.put("before", p.before());
            d.put("after", p.after());
            d.put("windows", c.windows());
            d.put("tokens", c.tokens());
            d.put("complete", c.complete());
            d.put("mean_nll_before", c.meanBefore());
            d.put("mean_nll_after", c.meanAfter());
            d.put("mean_nll_change", c.meanChange());
            ObjectNode ev = d.putObject("events");
            ev.put("forgotten", c.forgotten());
            ev.put("learned", c.learned());
            ev.put("right_both", c.rightRight());
            ev.put("wrong_both", c.wrongWrong());
            ObjectNode tr = d.putObject("transitions");
            tr.put("threshold_nats", c.settings().threshold());
            tr.put("low_low", c.lowLow());
            tr.put("low_high", c.lowHigh());
            tr.put("high_low", c.highLow());
            tr.put("high_high", c.highHigh());
            stats(d.putArray("forgotten_tokens"), c.forgottenTokens());
            stats(d.putArray("learned_tokens"), c.learnedTokens());
            stats(d.putArray("tokens_rose"), c.tokensRose());
            stats(d.putArray("words_rose"), c.wordsRose());
            ArrayNode h = d.putArray("histogram");
            long[] counts = c.histogram().counts();
            for (int i = 0; i < counts.length; i++) {
                h.addObject().put("bin", dev.retain.eval.forgotten.Histogram.label(i))
                        .put("tokens", counts[i]);
            }
            passages(d.putArray("passages_rose"), c.rose());
            passages(d.putArray("passages_fell"), c.fell());
        }
        return root;
    }

    private static void stats(ArrayNode arr, List<TokenStat> stats) {
        for (TokenStat s : stats) {
            ObjectNode o = arr.addObject();
            o.put("text", s.text());
            if (s.id() >= 0) {
                o.put("token_id", s.id());
            }
            o.put("count", s.count());
            if (s.sumBefore() != 0 || s.sumAfter() != 0) {
                o.put("sum_change", s.sumChange());
                o.put("mean_change", s.meanChange());
            }
        }
    }

    private static void passages(ArrayNode arr, List<dev.retain.eval.forgotten.Passage> ps) {
        for (var p : ps) {
            StringBuilder text = new StringBuilder();
            p.tokens().forEach(t -> text.append(t.text()));
            arr.addObject().put("window", p.window()).put("window_start", p.start())
                    .put("mean_nll_before", p.meanBefore()).put("mean_nll_after", p.meanAfter())
                    .put("text", text.toString());
        }
    }

    /**
     * A one-line summary per domain for the terminal.
     *
     * @param view the comparison
     * @return lines, each ending with a newline
     */
    public static String summary(ForgettingView view) {
        StringBuilder sb = new StringBuilder();
        int w = Math.max(6, view.parts().stream().mapToInt(p -> p.comparison().domain()
                .length()).max().orElse(6));
        int m = Math.max(6, view.parts().stream().mapToInt(p -> p.before().length()
                + p.after().length() + 4).max().orElse(6));
        sb.append(String.format(Locale.ROOT, "%-" + w + "s %-" + m + "s %8s %10s %10s %9s %10s"
                + " %9s %9s%n", "domain", "models", "tokens", "nll before", "nll after", "change",
                "forgotten", "learned", "low->high"));
        for (ForgettingView.Part p : view.parts()) {
            DomainComparison c = p.comparison();
            sb.append(String.format(Locale.ROOT, "%-" + w + "s %-" + m + "s %8d %10.4f %10.4f"
                    + " %+9.4f %10d %9d %8.1f%%%n", c.domain(), p.before() + " -> " + p.after(),
                    c.tokens(), c.meanBefore(), c.meanAfter(), c.meanChange(), c.forgotten(),
                    c.learned(), 100.0 * c.lowHigh() / c.tokens()));
        }
        return sb.toString();
    }
}
