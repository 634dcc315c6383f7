package dev.retain.eval.report;

import dev.retain.eval.EvalResult;
import dev.retain.eval.metrics.BaselineComparison;
import dev.retain.eval.metrics.Cost;
import dev.retain.eval.metrics.ForgettingMetrics;
import dev.retain.eval.metrics.ScoreMatrix;
import dev.retain.eval.metrics.StabilityGap;
import dev.retain.eval.results.RunResults;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * The report as one tidy table (results.csv, RFC 4180): one row per run x stage x domain x
 * metric, ready for {@code pandas.read_csv}.
 *
 * <p>Columns: {@code run, strategy, kind, stage, trained_on, domain, metric, value}.
 * {@code stage} is the 0-based training stage after which the value holds, {@code -1} for the
 * base model (before training; a single-model evaluation has only that row); {@code trained_on}
 * is that stage's task. {@code domain} is empty for run-level values (averages, costs).
 * Metrics: the score matrices ({@code perplexity}, {@code mean_nll}, {@code token_accuracy},
 * {@code accuracy}, {@code accuracy_std}); per domain at the last stage
 * {@code <score>.right_after}, {@code <score>.forgetting}, {@code mean_nll.perplexity_ratio};
 * per run at the last stage {@code <score>.average_final}, {@code .average_forgetting},
 * {@code .backward_transfer}, {@code .forward_transfer}, {@code .learning_curve_area},
 * {@code .vs_naive.*}; per stage {@code cost.*}; per boundary and earlier domain
 * {@code stability_gap.*}. Undefined values are left empty.
 *
 * <p>Over {@link Report#MATRIX_LIMIT} tasks, each score matrix gives its base row and its last
 * row only, and the stability gap (a row per boundary and earlier task) is left out: the file
 * grows with the tasks, not with their square. report.json has every score.
 */
final class CsvReport {

    private CsvReport() {}

    /**
     * Writes the table.
     *
     * @param report the report
     * @param out where the CSV text goes
     * @throws IOException when it cannot be written
     */
    static void write(Report report, Appendable out) throws IOException {
        out.append("run,strategy,kind,stage,trained_on,domain,metric,value\n");
        for (RunReport r : report.runs()) {
            new Rows(out, r, report.kind(), report.wide()).write();
        }
    }

    /** The rows of one run. */
    private static final class Rows {
        private final Appendable sb;
        private final RunReport r;
        private final RunResults res;
        private final String kind;
        private final boolean wide;

        Rows(Appendable sb, RunReport r, String kind, boolean wide) {
            this.sb = sb;
            this.r = r;
            this.res = r.results();
            this.kind = kind;
            this.wide = wide;
        }

        void write() throws IOException {
            for (ScoreMatrix m : res.scores().values()) {
                matrix(m, m.metric());
            }
            if (res.accuracyStd() != null) {
                matrix(res.accuracyStd(), "accuracy_std");
            }
            for (Map.Entry<String, ForgettingMetrics> e : r.metrics().entrySet()) {
                metrics(e.getKey(), e.getValue());
            }
            for (Cost.Stage s : res.stages()) {
                row(s.stage(), "", "cost.steps", s.steps());
                row(s.stage(), "", "cost.tokens_seen", s.tokensSeen());
                row(s.stage(), "", "cost.replay_tokens", s.replayTokens());
                row(s.stage(), "", "cost.train_seconds", s.trainSeconds());
                row(s.stage(), "", "cost.fisher_seconds", s.fisherSeconds());
                row(s.stage(), "", "cost.eval_seconds", s.evalSeconds());
                row(s.stage(), "", "cost.drift_seconds", s.driftSeconds());
                row(s.stage(), "", "cost.wall_seconds", s.wallSeconds());
            }
            if (r.cost().peakRssBytes() >= 0) {
                row(last(), "", "cost.peak_rss_bytes", r.cost().peakRssBytes());
            }
            for (StabilityGap.Row g : wide ? List.<StabilityGap.Row>of() : r.stabilityGap()) {
                row(g.stage(), g.task(), "stability_gap.at_boundary", g.atBoundary());
                row(g.stage(), g.task(), "stability_gap.worst", g.worst());
                row(g.stage(), g.task(), "stability_gap.ratio", g.ratio());
                Long rec = g.stepsToRecover();
                row(g.stage(), g.task(), "stability_gap.steps_to_recover",
                        rec == null ? Double.NaN : rec);
            }
            if (res.taskScores() != null) {
                // task probes: domain column = the task, metric "task.<metric>"; row k = stage k-1
                for (var p : res.taskScores().tasks()) {
                    for (int k = 0; k < p.rows().size(); k++) {
                        for (var e : p.rows().get(k).entrySet()) {
                            if (e.getValue() != null) {
                                row(k - 1, p.name(), "task." + e.getKey(), e.getValue());
                            }
                        }
                    }
                }
            }
            for (EvalResult e : res.evaluation()) {
                row(-1, e.domain(), "tokens", e.tokens());
                row(-1, e.domain(), "predicted", e.predicted());
                row(-1, e.domain(), "seconds", e.seconds());
            }
        }

        private int last() {
            return res.primary().stagesDone() - 1;
        }

        private void matrix(ScoreMatrix m, String metric) throws IOException {
            for (int k = 0; k < m.rowCount(); k++) {
                if (wide && k > 0 && k < m.rowCount() - 1) {
                    continue;
                }
                for (int j = 0; j < m.taskCount(); j++) {
                    row(k - 1, m.tasks().get(j), metric, m.get(k, j));
                }
            }
        }

        private void metrics(String score, ForgettingMetrics m) throws IOException {
            int k = m.stage() - 1;
            double[] ratio = m.expRatioFinalOverRightAfter();
            for (int j = 0; j < m.tasks().size(); j++) {
                String d = m.tasks().get(j);
                if (!Double.isNaN(m.rightAfter()[j])) {
                    row(k, d, score + ".right_after", m.rightAfter()[j]);
                }
                if (!Double.isNaN(m.forgetting()[j])) {
                    row(k, d, score + ".forgetting", m.forgetting()[j]);
                }
                if (score.equals(RunResults.MEAN_NLL) && !Double.isNaN(ratio[j])) {
                    row(k, d, score + ".perplexity_ratio", ratio[j]);
                }
            }
            if (m.stage() == 0) {
                return;
            }
            row(k, "", score + ".average_final", m.averageFinal());
            row(k, "", score + ".average_forgetting", m.averageForgetting());
            row(k, "", score + ".backward_transfer", m.backwardTransfer());
            row(k, "", score + ".forward_transfer", m.forwardTransfer());
            row(k, "", score + ".learning_curve_area", m.learningCurveArea());
            BaselineComparison b = r.vsBaseline().get(score);
            if (b != null) {
                row(k, "", score + ".vs_naive.forgetting_reduction", b.forgettingReduction());
                row(k, "", score + ".vs_naive.plasticity_loss", b.plasticityLoss());
                row(k, "", score + ".vs_naive.wall_time_ratio", b.wallTimeRatio());
                row(k, "", score + ".vs_naive.compute_ratio", b.computeRatio());
            }
        }

        private void row(int stage, String domain, String metric, double value)
                throws IOException {
            String trained = stage >= 0 && stage < res.tasks().size() && !res.isSingleModel()
                    ? res.tasks().get(stage) : "";
            sb.append(field(r.label())).append(',').append(field(r.strategy())).append(',')
                    .append(kind).append(",").append(String.valueOf(stage)).append(",").append(field(trained))
                    .append(',').append(field(domain)).append(',').append(metric).append(',')
                    .append(Double.isFinite(value) ? number(value) : "").append('\n');
        }
    }

    private static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v)
                : Double.toString(v);
    }

    /**
     * Quotes a field when it holds a comma, quote or line break (RFC 4180).
     *
     * @param s the field
     * @return the CSV field
     */
    static String field(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0
                && s.indexOf('\r') < 0) {
            return s;
        }
        return '"' + s.replace("\"", "\"\"") + '"';
    }
}
