package dev.retain.eval.report;

import dev.retain.eval.metrics.BaselineComparison;
import dev.retain.eval.metrics.ForgettingMetrics;

import java.util.ArrayList;
import java.util.List;

/**
 * The runs side by side, one row each: the table {@code retain report} (and {@code retain demo})
 * prints at the end, and the "Comparison" table of report.md and report.html.
 *
 * <p>Language models: avg final ppl = {@code exp(A_k)} on mean NLL (geometric mean of the
 * domains' perplexities), avg forgetting and BWT in nats per token, plasticity = geometric mean
 * perplexity right after learning each domain. Classifiers: the same on accuracy. With a naive run
 * present, two more columns: forgetting reduced against naive and wall time against naive.
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
        List<List<String>> out = new ArrayList<>();
        out.add(header);
        for (RunReport r : report.runs()) {
            ForgettingMetrics m = r.primary();
            List<String> row = new ArrayList<>(List.of(r.label(), r.strategy(),
                    m.stage() + "/" + r.results().tasks().size(),
                    cls ? Fmt.fixed(m.averageFinal(), 4) : Fmt.ppl(Math.exp(m.averageFinal())),
                    Fmt.signed(m.averageForgetting(), 4), Fmt.signed(m.backwardTransfer(), 4),
                    cls ? Fmt.fixed(m.averageRightAfter(), 4)
                            : Fmt.ppl(Math.exp(m.averageRightAfter())),
                    Fmt.seconds(r.cost().wallSeconds())));
            if (naive) {
                BaselineComparison b = r.vsBaseline().get(r.results().primaryMetric());
                boolean isBase = r.label().equals(report.baseline());
                String none = r.complete() ? Fmt.NA : "incomplete";
                row.add(isBase ? "(baseline)" : b == null ? none
                        : Fmt.percent(b.forgettingReduction()));
                row.add(isBase ? "1.00x" : b == null ? none : Fmt.ratio(b.wallTimeRatio()));
            }
            out.add(row);
        }
        return out;
    }

    /**
     * The comparison as a plain-text table with aligned columns, one line per run.
     *
     * @param report the report
     * @return the table, ending with a newline
     */
    static String render(Report report) {
        List<List<String>> rows = rows(report);
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
                sb.append(c < 2 ? cell + pad : pad + cell);
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
