package dev.retain.eval.report;

import dev.retain.core.UserError;
import dev.retain.eval.forgotten.CompareSettings;
import dev.retain.eval.forgotten.DomainComparison;
import dev.retain.eval.forgotten.ForgettingView;
import dev.retain.eval.forgotten.Passage;
import dev.retain.eval.forgotten.RunDetail;
import dev.retain.eval.forgotten.TokenStat;
import dev.retain.eval.forgotten.TokenText;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The report's token-level view of forgetting, from the runs' token detail ({@code
 * RUN_DIR/token-detail}, {@link RunDetail}): the opening (the most forgotten passage of the
 * first domain, coloured) and the "What was forgotten" section, one part per domain learned
 * before a run's last evaluation: the runs side by side, then the run that forgot the domain
 * most in detail, the others folded. Runs without detail are left out; when none has any, both
 * are empty.
 */
final class WhatWasForgotten {

    /**
     * One run's comparisons.
     *
     * @param run the run
     * @param parts each earlier domain from right after learning it to the last evaluation
     * @param problem why the run has none although it has detail files (or null)
     */
    record RunParts(RunReport run, List<ForgettingView.Part> parts, String problem) {}

    private WhatWasForgotten() {}

    /**
     * @param report the report
     * @return the comparisons of every run that kept token detail
     */
    static List<RunParts> load(Report report) {
        List<RunParts> out = new ArrayList<>();
        if (report.isSingleModel() || report.isClassifier()) {
            return out;
        }
        for (RunReport r : report.runs()) {
            if (r.results().dir() == null) {
                continue;
            }
            RunDetail detail = new RunDetail(r.results().dir(), r.results().tasks());
            List<Integer> rows = detail.rows();
            if (rows.size() < 2) {
                continue;
            }
            TokenText text = detail.tokenText();
            try {
                out.add(new RunParts(r, detail.parts(List.of(), -1, -1, text == null
                        ? TokenText.idsOnly(-1) : text, CompareSettings.DEFAULT), null));
            } catch (UserError e) {
                out.add(new RunParts(r, List.of(), e.getMessage()));
            }
        }
        return out;
    }

    /**
     * The opening: the passage of the first domain whose NLL rose most, in whichever run.
     *
     * @param doc the document
     * @param runs the runs' comparisons
     * @param tasks the tasks in training order
     */
    static void opening(Doc doc, List<RunParts> runs, List<String> tasks) {
        String first = tasks.get(0);
        RunParts best = null;
        ForgettingView.Part bestPart = null;
        for (RunParts r : runs) {
            for (ForgettingView.Part p : r.parts()) {
                if (p.comparison().domain().equals(first) && !p.comparison().rose().isEmpty()
                        && (bestPart == null || rise(p) > rise(bestPart))) {
                    best = r;
                    bestPart = p;
                }
            }
        }
        if (bestPart == null) {
            return;
        }
        Passage p = bestPart.comparison().rose().get(0);
        doc.heading(2, "Most forgotten: " + Visible.text(first), "most-forgotten");
        doc.paragraph(String.format(Locale.ROOT, "The passage of %s whose mean NLL rose most"
                + " between %s and %s, in %s: each token coloured by how much worse the later"
                + " model predicts it (hover a token for its NLL and each model's top"
                + " prediction). More under \"What was forgotten\".", Visible.text(first),
                bestPart.before(), bestPart.after(), best.run().label()));
        doc.add(ForgottenSection.passage("", p));
        doc.add(ForgottenSection.legend());
    }

    private static double rise(ForgettingView.Part p) {
        return p.comparison().rose().get(0).meanChange();
    }

    /**
     * The "What was forgotten" section.
     *
     * @param doc the document
     * @param runs the runs' comparisons
     * @param tasks the tasks in training order
     */
    static void section(Doc doc, List<RunParts> runs, List<String> tasks) {
        if (runs.isEmpty()) {
            return;
        }
        doc.heading(2, "What was forgotten", "what-forgotten");
        doc.paragraph("Token by token, from the per-token detail each evaluation kept (train's"
                + " --token-detail): each domain right after learning it against the run's last"
                + " evaluation, on the same test windows. The runs side by side, then the run"
                + " that forgot the domain most in detail and the others folded. Forgotten ="
                + " the model's top prediction was the token right after learning and is not at"
                + " the end; low/high = NLL below/above " + Fmt.fixed(CompareSettings.DEFAULT
                        .threshold(), 0) + " nats. retain forgotten RUN_DIR writes every token"
                + " as JSON Lines (docs/FORGETTING.md).");
        for (RunParts r : runs) {
            if (r.problem() != null) {
                doc.paragraph(r.run().label() + ": no comparison (" + r.problem() + ").");
            }
        }
        for (String task : tasks) {
            List<Entry> entries = new ArrayList<>();
            for (RunParts r : runs) {
                for (ForgettingView.Part p : r.parts()) {
                    if (p.comparison().domain().equals(task)) {
                        entries.add(new Entry(r.run(), p));
                    }
                }
            }
            if (!entries.isEmpty()) {
                domain(doc, task, entries);
            }
        }
    }

    private record Entry(RunReport run, ForgettingView.Part part) {}

    private static void domain(Doc doc, String task, List<Entry> entries) {
        doc.heading(3, Visible.text(task), null);
        List<List<String>> rows = new ArrayList<>();
        for (Entry e : entries) {
            DomainComparison c = e.part().comparison();
            TokenStat top = c.tokensRose().isEmpty() ? null : c.tokensRose().get(0);
            rows.add(List.of(e.run().label(), e.part().before() + " -> " + e.part().after(),
                    Fmt.count(c.tokens()), Fmt.signed(c.meanChange(), 4),
                    share(c.forgotten(), c.tokens()), share(c.learned(), c.tokens()),
                    share(c.lowHigh(), c.tokens()), share(c.highLow(), c.tokens()),
                    top == null ? "" : Visible.token(top.text()) + " ("
                            + Fmt.signed(top.sumChange(), 1) + ")"));
        }
        doc.table(new Doc.Table("Runs side by side (change = mean NLL change per token, nats)",
                List.of("run", "compared", "tokens", "change", "forgotten", "learned",
                        "low -> high", "high -> low", "token that rose most (summed)"), rows));
        Entry most = entries.stream().max(Comparator.comparingDouble(
                e -> e.part().comparison().meanChange())).orElseThrow();
        doc.paragraph("In detail: " + most.run().label() + " (the largest change here).");
        ForgottenSection.write(doc, most.part().comparison(), most.part().before(),
                most.part().after());
        for (Entry e : entries) {
            if (e != most) {
                Doc inner = new Doc();
                ForgottenSection.write(inner, e.part().comparison(), e.part().before(),
                        e.part().after());
                doc.add(new Doc.Details(e.run().label() + " on " + Visible.text(task)
                        + " in detail", inner.blocks()));
            }
        }
    }

    private static String share(long k, long n) {
        return Fmt.count(k) + " (" + Fmt.fixed(100.0 * k / n, 1) + " %)";
    }
}
