package dev.retain.eval.report;

import dev.retain.eval.EvalResult;
import dev.retain.eval.metrics.Definition;
import dev.retain.eval.metrics.ForgettingMetrics;
import dev.retain.eval.results.RunResults;


import java.util.ArrayList;
import java.util.List;

/**
 * Lays a {@link Report} out as a {@link Doc}: the one description of what report.md and
 * report.html show, section by section: the comparison of the runs, forgetting per task, each
 * run's own section ({@link RunSection}), the definitions; or a single model's evaluation.
 * Numbers come from the report's computed metrics; nothing is computed here beyond formatting.
 */
final class ReportDocument {

    /** Chart width in pixels. */
    static final int WIDTH = 960;

    private ReportDocument() {}

    /**
     * @param report the report
     * @return its document
     */
    static Doc build(Report report) {
        Doc doc = new Doc();
        doc.heading(1, report.isSingleModel() ? "retain evaluation report" : "retain report",
                null);
        doc.paragraph("Schema " + Report.SCHEMA + ", data as of " + report.generated() + ". "
                + (report.isSingleModel() ? "One model on "
                        + (report.tasks().isEmpty() ? "" : report.tasks().size() + " domains: "
                                + Fmt.list(report.tasks(), Report.MATRIX_LIMIT))
                        + taskCount(report.runs().get(0).results().taskScores(),
                                report.tasks().isEmpty()) + "."
                        : report.runs().size() + (report.runs().size() == 1 ? " run" : " runs")
                        + " (" + (report.isClassifier() ? "classifier" : "language model")
                        + ") over " + report.tasks().size() + " tasks, in training order: "
                        + Fmt.list(report.tasks(), report.wide() ? Report.NAMES
                                : Report.MATRIX_LIMIT) + "."));
        doc.warnings(report.warnings());
        if (report.isSingleModel()) {
            singleModel(doc, report.runs().get(0));
            return doc;
        }
        if (report.runs().size() > 1) {
            comparison(doc, report);
        }
        forgettingPerDomain(doc, report);
        int i = 1;
        for (RunReport r : report.runs()) {
            RunSection.write(doc, report, r, "run-" + i++);
        }
        definitions(doc, report);
        return doc;
    }

    // ---------------------------------------------------------------- several runs

    private static void comparison(Doc doc, Report report) {
        doc.heading(2, "Comparison", "comparison");
        List<List<String>> rows = ComparisonTable.rows(report);
        doc.table(new Doc.Table(null, rows.get(0), rows.subList(1, rows.size())));
        doc.heading(3, "Ranking", "ranking");
        String metric = report.isClassifier() ? "accuracy" : "mean NLL";
        doc.paragraph("Complete runs, best average final " + metric + " first. "
                + (report.baseline() == null ? "No naive run is present, so there is no"
                        + " comparison against naive fine-tuning."
                        : "Compared with naive fine-tuning (" + report.baseline() + "):"
                                + " forgetting reduced = 1 - F_run / F_naive; plasticity lost ="
                                + " mean right-after-learning deficit (positive = less plastic);"
                                + " wall time = wall_run / wall_naive."));
        List<List<String>> rank = ComparisonTable.rankingRows(report);
        doc.table(new Doc.Table(null, rank.get(0), rank.subList(1, rank.size())));
        if (!report.notRanked().isEmpty()) {
            doc.paragraph("Not ranked: " + String.join("; ", report.notRanked()) + ".");
        }
    }

    private static void forgettingPerDomain(Doc doc, Report report) {
        boolean cls = report.isClassifier();
        // Classifier runs learn tasks (MNIST splits, permutations), language models domains.
        String unit = cls ? "task" : "domain";
        doc.heading(2, "Forgetting per " + unit, "forgetting");
        List<String> tasks = report.tasks();
        List<String> labels = report.runs().stream().map(RunReport::label).toList();
        double[][] values = new double[labels.size()][tasks.size()];
        List<List<String>> rows = new ArrayList<>();
        for (int j = 0; j < tasks.size(); j++) {
            List<String> row = new ArrayList<>(List.of(tasks.get(j)));
            for (int s = 0; s < labels.size(); s++) {
                RunReport r = report.runs().get(s);
                ForgettingMetrics m = r.primary();
                int col = m.tasks().indexOf(tasks.get(j));
                values[s][j] = m.forgetting()[col];
                row.add(cls ? Fmt.signed(values[s][j], 4) : Fmt.signed(values[s][j], 4) + " ("
                        + Fmt.ratio(m.expRatioFinalOverRightAfter()[col]) + ")");
            }
            rows.add(row);
        }
        String what = cls ? "best earlier accuracy - final accuracy"
                : "final mean NLL - best earlier mean NLL, nats per token";
        doc.paragraph("Forgetting f_j = " + what + "; positive = forgot. "
                + (cls ? "" : "In brackets: perplexity final / right after learning. ")
                + "The last task learned has no forgetting yet (n/a).");
        List<String> header = new ArrayList<>(List.of(unit));
        header.addAll(labels);
        doc.table(new Doc.Table(null, header, rows));
        if (report.wide()) {
            return;
        }
        doc.chart("Forgetting per " + unit + ", by run", () -> Charts.groupedBars(
                "Forgetting per " + unit, what + " (positive = forgot)",
                cls ? "forgetting (accuracy)" : "forgetting (nats/token)", labels, tasks,
                values), WIDTH, 420);
    }

    // ---------------------------------------------------------------- single model

    private static String taskCount(dev.retain.eval.results.TaskScores t, boolean only) {
        return t == null ? "" : (only ? "" : " and ") + t.tasks().size() + " task probes: "
                + String.join(", ", t.tasks().stream()
                        .map(dev.retain.eval.results.TaskScores.Probe::name).toList());
    }

    private static void singleModel(Doc doc, RunReport r) {
        RunResults res = r.results();
        doc.heading(2, "Model: " + r.label(), "model");
        List<List<String>> facts = new ArrayList<>();
        RunSection.facts(facts, "model", res.model());
        if (!facts.isEmpty()) {
            doc.table(new Doc.Table("Setup", List.of("setting", "value"), facts));
        }
        if (res.taskScores() != null) {
            TaskSection.singleModel(doc, res.taskScores());
        }
        if (res.evaluation().isEmpty()) {
            return;
        }
        List<List<String>> rows = new ArrayList<>();
        for (EvalResult e : res.evaluation()) {
            rows.add(List.of(e.domain(), Fmt.count(e.tokens()), Fmt.count(e.predicted()),
                    Fmt.ppl(e.perplexity()), Fmt.fixed(e.meanNll(), 4),
                    Fmt.fixed(e.tokenAccuracy(), 4), Fmt.seconds(e.seconds()),
                    Fmt.fixed(e.tokensPerSecond(), 0)));
        }
        doc.table(new Doc.Table("Per domain", List.of("domain", "tokens", "predicted",
                "perplexity", "mean NLL", "token accuracy", "time", "tokens/s"), rows));
        doc.paragraph("Perplexity = exp(total NLL / predicted tokens); token accuracy = share of"
                + " predicted tokens whose argmax is the next token.");
        List<String> one = List.of(r.label());
        double[][] ppl = {res.evaluation().stream().mapToDouble(EvalResult::perplexity)
                .toArray()};
        double[][] acc = {res.evaluation().stream().mapToDouble(EvalResult::tokenAccuracy)
                .toArray()};
        doc.chart("Perplexity per domain", () -> Charts.groupedBars("Perplexity per domain",
                "lower is better", "perplexity", one, res.tasks(), ppl), WIDTH, 400);
        doc.chart("Token accuracy per domain", () -> Charts.groupedBars(
                "Token accuracy per domain", "higher is better", "token accuracy", one,
                res.tasks(), acc), WIDTH, 400);
    }

    // ---------------------------------------------------------------- definitions

    private static void definitions(Doc doc, Report report) {
        doc.heading(2, "Definitions", "definitions");
        doc.paragraph("R[k][j] is the score on task j after training stage k (row 0 = the base"
                + " model before training); k is the last finished stage (T when the run is"
                + " complete). g is the score made higher-is-better: g = R for accuracy, g = -R"
                + " for mean NLL (nats per token, the log of perplexity). Every formula is taken"
                + " on g, so for both kinds of score: forgetting and plasticity lost, positive ="
                + " bad; BWT and FWT, positive = good (negative BWT is forgetting). Language-model"
                + " metrics are computed on mean NLL and shown as perplexity where it reads"
                + " better (exp of a mean NLL is a geometric mean perplexity).");
        List<List<String>> rows = new ArrayList<>();
        for (Definition d : Definition.values()) {
            if (report.isClassifier() && (d == Definition.PERPLEXITY_RATIO
                    || d == Definition.STABILITY_GAP)) {
                continue;
            }
            rows.add(List.of(d.label(), d.formula(), d.meaning()));
        }
        doc.table(new Doc.Table(null, List.of("metric", "formula", "meaning"), rows,
                List.of(1)));
    }
}
