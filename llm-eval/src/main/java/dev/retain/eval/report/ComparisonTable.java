package dev.retain.eval.report;

import dev.retain.eval.metrics.BaselineComparison;
import dev.retain.eval.metrics.ForgettingMetrics;
import dev.retain.eval.results.RunResults;

import java.util.ArrayList;
import java.util.List;

/**
 * The runs side by side, one row each: the table {@code retain report} (and {@code retain run},
 * {@code retain demo}) prints at the end, and the "Comparison" table of report.md and report.html;
 * and the ranking of the complete runs ({@link Report#ranking()}), the "Ranking" table of the
 * reports, which {@code retain run} prints after the comparison.
 *
 * <p>Language models: avg final ppl = {@code exp(A_k)} on mean NLL (geometric mean of the
 * domains' perplexities), avg forgetting and BWT in nats per token, plasticity = geometric mean
 * perplexity right after learning each domain. Classifiers: the same on accuracy. With a naive run
 * present, more columns: forgetting reduced against naive, wall time against naive and (when the
 * results record it) training compute against naive in token passes; with a complete joint run,
 * each run's average final perplexity against joint's.
 */
final class ComparisonTable {

    private ComparisonTable() {}

    /**
     * The table as header plus rows of plain-text cells.
     *
     * @param report the report
     * @return the header (first) and one row per run
     */
    static List<List<String>> rows(Report report) {
        boolean cls = report.isClassifier();
        boolean naive = report.baseline() != null;
        List<String> header = new ArrayList<>(List.of("run", "strategy", "stages",
                cls ? "avg final acc" : "avg final ppl",
                cls ? "avg forgetting (acc)" : "avg forgetting (nll)",
                cls ? "BWT (acc)" : "BWT (nll)",
                cls ? "plasticity (acc)" : "plasticity (ppl)", "wall time"));
        if (naive) {
            header.add("forgetting reduced vs naive");
            header.add("wall time vs naive");
        }
        boolean compute = naive && report.runs().stream().anyMatch(r ->
                r.label().equals(report.baseline()) && r.cost().tokenPasses() > 0);
        if (compute) {
            header.add("compute vs naive");
        }
        boolean held = report.runs().stream().anyMatch(r -> r.results().heldOut() != null);
        if (held) {
            header.add("held-out ppl vs base");
        }
        boolean probes = report.runs().stream().anyMatch(r -> r.results().taskScores() != null);
        if (probes) {
            header.add("task accuracy vs base");
        }
        RunReport joint = cls ? null : joint(report);
        if (joint != null) {
            header.add("avg final ppl vs joint");
        }
        List<List<String>> out = new ArrayList<>();
        out.add(header);
        for (RunReport r : report.runs()) {
            ForgettingMetrics m = r.primary();
            List<String> row = new ArrayList<>(List.of(r.label(), r.strategy(),
                    m.stage() + "/" + r.results().tasks().size()
                            + (r.results().diverged() ? " diverged" : ""),
                    cls ? Fmt.fixed(m.averageFinal(), 4) : Fmt.ppl(Math.exp(m.averageFinal())),
                    Fmt.signed(m.averageForgetting(), 4), Fmt.signed(m.backwardTransfer(), 4),
                    cls ? Fmt.fixed(m.averageRightAfter(), 4)
                            : Fmt.ppl(Math.exp(m.averageRightAfter())),
                    Fmt.seconds(r.cost().wallSeconds())));
            if (naive) {
                BaselineComparison b = r.vsBaseline().get(r.results().primaryMetric());
                boolean isBase = r.label().equals(report.baseline());
                String none = r.complete() ? Fmt.NA
                        : r.results().diverged() ? "diverged" : "incomplete";
                row.add(isBase ? "(baseline)" : b == null ? none
                        : Fmt.percent(b.forgettingReduction()));
                row.add(isBase ? "1.00x" : b == null ? none : Fmt.ratio(b.wallTimeRatio()));
                if (compute) {
                    row.add(isBase ? "1.00x" : b == null ? none : Fmt.ratio(b.computeRatio()));
                }
            }
            if (held) {
                row.add(heldOutRatio(r));
            }
            if (probes) {
                row.add(TaskSection.accuracyVsBase(r.results().taskScores()));
            }
            if (joint != null) {
                row.add(r == joint ? "(reference)" : !r.complete() ? Fmt.NA
                        : Fmt.ratio(Math.exp(m.averageFinal() - joint.primary().averageFinal())));
            }
            out.add(row);
        }
        return out;
    }

    /**
     * How the held-out domains' perplexity moved from the base model to the run's last stage:
     * the geometric mean of their ratios, {@code exp(mean(nll_last) - mean(nll_base))}.
     */
    private static String heldOutRatio(RunReport r) {
        RunResults.HeldOut h = r.results().heldOut();
        if (h == null || h.rowCount() < 2) {
            return Fmt.NA;
        }
        double d = 0;
        for (int j = 0; j < h.taskCount(); j++) {
            d += h.get(h.rowCount() - 1, j) - h.get(0, j);
        }
        return Fmt.ratio(Math.exp(d / h.taskCount()));
    }

    /**
     * The joint run, the upper reference of continual strategies (training on every domain so
     * far mixed), when a complete one is in the report.
     *
     * @param report the report
     * @return the first complete run of strategy {@code joint}, or null
     */
    static RunReport joint(Report report) {
        return report.runs().stream().filter(r -> r.strategy().equals("joint") && r.complete())
                .findFirst().orElse(null);
    }

    /**
     * The ranking as header plus rows of plain-text cells, best first: rank, run, strategy,
     * average final score, average forgetting, and against naive (when a naive run is present)
     * forgetting reduced, plasticity lost and the wall time ratio.
     *
     * @param report the report
     * @return the header (first) and one row per ranked run; only the header when none is ranked
     */
    static List<List<String>> rankingRows(Report report) {
        boolean cls = report.isClassifier();
        List<List<String>> out = new ArrayList<>();
        out.add(List.of("rank", "run", "strategy", cls ? "avg final acc" : "avg final ppl",
                cls ? "avg forgetting (acc)" : "avg forgetting (nll)",
                "forgetting reduced vs naive", "plasticity lost vs naive", "wall time vs naive"));
        for (Report.Rank r : report.ranking()) {
            BaselineComparison b = r.vsBaseline();
            boolean base = r.run().equals(report.baseline());
            ForgettingMetrics m = r.metrics();
            out.add(List.of(String.valueOf(r.rank()), r.run(), r.strategy(),
                    cls ? Fmt.fixed(m.averageFinal(), 4) : Fmt.ppl(Math.exp(m.averageFinal())),
                    Fmt.signed(m.averageForgetting(), 4),
                    base ? "(baseline)" : b == null ? Fmt.NA : Fmt.percent(b.forgettingReduction()),
                    base ? "(baseline)" : b == null ? Fmt.NA : plasticityLoss(cls, b),
                    base ? "1.00x" : b == null ? Fmt.NA : Fmt.ratio(b.wallTimeRatio())));
        }
        return out;
    }

    private static String plasticityLoss(boolean cls, BaselineComparison b) {
        return cls ? Fmt.signed(b.plasticityLoss(), 4)
                : Fmt.signed(b.plasticityLoss(), 4) + " nats (" + Fmt.ratio(Math.exp(
                        b.plasticityLoss())) + " ppl)";
    }

    /**
     * The comparison as a plain-text table with aligned columns, one line per run.
     *
     * @param report the report
     * @return the table, ending with a newline
     */
    static String render(Report report) {
        return render(rows(report), 0);
    }

    /**
     * The ranking as a plain-text table with aligned columns, one line per ranked run, then one
     * line naming the runs left out (when any).
     *
     * @param report the report
     * @return the table ending with a newline, or "" when no run is ranked (a single run)
     */
    static String renderRanking(Report report) {
        if (report.ranking().isEmpty()) {
            return "";
        }
        String table = render(rankingRows(report), 1);
        return report.notRanked().isEmpty() ? table
                : table + "not ranked: " + printable(String.join("; ", report.notRanked())) + "\n";
    }

    /**
     * Rows as a plain-text table: the two text columns from {@code firstText} left-aligned, the
     * other columns (numbers) right-aligned.
     */
    private static String render(List<List<String>> rows, int firstText) {
        int cols = rows.get(0).size();
        int[] w = new int[cols];
        for (List<String> row : rows) {
            for (int c = 0; c < cols; c++) {
                w[c] = Math.max(w[c], row.get(c).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < rows.size(); i++) {
            List<String> row = rows.get(i);
            for (int c = 0; c < cols; c++) {
                String cell = printable(row.get(c));
                String pad = " ".repeat(w[c] - cell.length());
                // Text columns (run, strategy) left-aligned, numbers right-aligned.
                boolean text = c >= firstText && c < firstText + 2;
                sb.append(text ? cell + pad : pad + cell);
                sb.append(c + 1 < cols ? "  " : "");
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** Control characters in a name (an escape sequence, say) must not reach a terminal. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> b.appendCodePoint(Character.isISOControl(cp) ? '?' : cp));
        return b.toString();
    }
}
