package dev.retain.eval.report;

import dev.retain.eval.metrics.BaselineComparison;
import dev.retain.eval.metrics.Cost;
import dev.retain.eval.metrics.CurvePoint;
import dev.retain.eval.metrics.Definition;
import dev.retain.eval.metrics.DriftMap;
import dev.retain.eval.metrics.ForgettingMetrics;
import dev.retain.eval.metrics.ScoreMatrix;
import dev.retain.eval.metrics.StabilityGap;
import dev.retain.eval.results.MetricsLog;
import dev.retain.eval.results.RunResults;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * One run's section of the report document ({@link ReportDocument}): its setup, score matrices
 * and heat maps, per-task and summary metrics, costs, continual-evaluation curves with the
 * stability gap, and the drift map.
 */
final class RunSection {

    private RunSection() {}

    /**
     * Adds one run's section.
     *
     * @param doc the document
     * @param report the report the run belongs to (for its settings)
     * @param r the run
     * @param anchor the section's anchor
     */
    static void write(Doc doc, Report report, RunReport r, String anchor) {
        RunResults res = r.results();
        doc.heading(2, "Run: " + r.label(), anchor);
        doc.paragraph("Strategy " + r.strategy() + "; status " + res.status() + " ("
                + r.primary().stage() + " of " + res.tasks().size() + " stages have scores"
                + (r.complete() ? "" : "; missing: " + Fmt.list(r.missingStages(),
                        Report.NAMES))
                + ")" + (res.diverged() ? "; " + res.divergence() : "") + "; results "
                + res.source()
                + (res.started() == null ? "" : "; started " + res.started())
                + (res.finished() == null ? "" : ", finished " + res.finished()) + ".");
        setup(doc, res);
        List<String> rowLabels = rowLabels(res);
        if (report.wide()) {
            doc.paragraph(res.tasks().size() + " tasks: the score matrices, heat maps, curves,"
                    + " stability gap and drift tables are left out (over " + Report.MATRIX_LIMIT
                    + " tasks); every score is in report.json.");
        } else if (res.isClassifier()) {
            ScoreMatrix acc = res.scores().get(RunResults.ACCURACY);
            matrix(doc, r, acc, "Accuracy", 4, res.accuracyStd(), rowLabels);
        } else {
            matrix(doc, r, res.scores().get("perplexity"), "Perplexity", -1, null, rowLabels);
            ScoreMatrix tok = res.scores().get("token_accuracy");
            if (tok != null) {
                matrix(doc, r, tok, "Token accuracy", 4, null, rowLabels);
            }
        }
        heldOut(doc, res, rowLabels);
        TaskSection.run(doc, res.taskScores(), rowLabels);
        perTask(doc, r);
        summary(doc, r);
        timings(doc, r);
        trainingLoss(doc, r);
        StreamSection.write(doc, res, r.label());
        if (!report.wide()) {
            curves(doc, report, r);
            drift(doc, r);
        }
    }

    private static List<String> rowLabels(RunResults res) {
        List<String> labels = new ArrayList<>(List.of("base model"));
        for (int k = 1; k < res.primary().rowCount(); k++) {
            labels.add("after " + res.tasks().get(k - 1));
        }
        return labels;
    }

    private static void setup(Doc doc, RunResults res) {
        List<List<String>> rows = new ArrayList<>();
        facts(rows, "model", res.model());
        facts(rows, "config", res.config());
        facts(rows, "environment", res.environment());
        if (res.seeds() > 0) {
            rows.add(List.of("seeds", String.valueOf(res.seeds())));
        }
        if (!rows.isEmpty()) {
            doc.add(new Doc.Details("Setup: " + rows.size() + " settings", List.of(
                    new Doc.Table(null, List.of("setting", "value"), rows))));
        }
    }

    /** Adds a row {@code prefix.key, value} per field of a facts object. */
    static void facts(List<List<String>> rows, String prefix, JsonNode node) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            rows.add(List.of(prefix + "." + e.getKey(), v.isValueNode() ? v.asText()
                    : v.toString()));
        }
    }

    private static void matrix(Doc doc, RunReport r, ScoreMatrix m, String name, int decimals,
            ScoreMatrix std, List<String> rowLabels) {
        double[][] v = m.rows();
        if (v.length == 0) {
            doc.paragraph(name + ": no scores yet (the run stopped before its first evaluation).");
            return;
        }
        List<List<String>> rows = new ArrayList<>();
        for (int k = 0; k < v.length; k++) {
            List<String> row = new ArrayList<>(List.of(k < rowLabels.size() ? rowLabels.get(k)
                    : "after stage " + k));
            for (int j = 0; j < m.taskCount(); j++) {
                String cell = decimals < 0 ? Fmt.ppl(v[k][j]) : Fmt.fixed(v[k][j], decimals);
                if (std != null && k < std.rowCount()) {
                    cell += " ± " + Fmt.fixed(std.get(k, j), decimals);
                }
                row.add(cell);
            }
            rows.add(row);
        }
        List<String> header = new ArrayList<>(List.of("model"));
        header.addAll(m.tasks());
        doc.table(new Doc.Table(name + " R[k][j] (rows: after training on task k; columns: task j; "
                + (m.higherIsBetter() ? "higher" : "lower") + " is better)", header, rows));
        doc.chart(name + " heat map, " + r.label(), () -> Charts.heatMap(name + ": "
                + r.label(), "colour per " + (r.results().isClassifier() ? "task" : "domain")
                        + " against its own range; bright = better",
                rowLabels, m.tasks(), v, Charts.Colour.PER_COLUMN, m.higherIsBetter(),
                x -> decimals < 0 ? Fmt.ppl(x) : Fmt.fixed(x, decimals)),
                ReportDocument.WIDTH, 90 + 42 * v.length);
    }

    private static void perTask(Doc doc, RunReport r) {
        RunResults res = r.results();
        List<List<String>> rows = new ArrayList<>();
        if (res.isClassifier()) {
            ForgettingMetrics a = r.metrics().get(RunResults.ACCURACY);
            for (int j = 0; j < res.tasks().size(); j++) {
                rows.add(List.of(res.tasks().get(j), Fmt.fixed(a.rightAfter()[j], 4),
                        Fmt.fixed(a.finalScores()[j], 4), Fmt.fixed(a.bestEarlier()[j], 4),
                        Fmt.signed(a.forgetting()[j], 4)));
            }
            doc.table(new Doc.Table("Per task (accuracy)", List.of("task", "right after",
                    "final", "best earlier", "forgetting"), rows));
            return;
        }
        ForgettingMetrics nll = r.metrics().get(RunResults.MEAN_NLL);
        ForgettingMetrics tok = r.metrics().get("token_accuracy");
        double[] ratio = nll.expRatioFinalOverRightAfter();
        for (int j = 0; j < res.tasks().size(); j++) {
            List<String> row = new ArrayList<>(List.of(res.tasks().get(j),
                    Fmt.ppl(Math.exp(nll.rightAfter()[j])),
                    Fmt.ppl(Math.exp(nll.finalScores()[j])), Fmt.ratio(ratio[j]),
                    Fmt.signed(nll.forgetting()[j], 4)));
            if (tok != null) {
                row.add(Fmt.fixed(tok.rightAfter()[j], 4));
                row.add(Fmt.fixed(tok.finalScores()[j], 4));
                row.add(Fmt.signed(tok.forgetting()[j], 4));
            }
            rows.add(row);
        }
        List<String> header = new ArrayList<>(List.of("domain", "ppl right after",
                "ppl final", "ppl final / right after", "forgetting (nll)"));
        if (tok != null) {
            header.addAll(List.of("token acc right after", "token acc final",
                    "forgetting (token acc)"));
        }
        doc.table(new Doc.Table("Per domain", header, rows));
    }

    private static void summary(Doc doc, RunReport r) {
        List<String> keys = new ArrayList<>(r.metrics().keySet());
        List<String> header = new ArrayList<>(List.of("metric"));
        for (String k : keys) {
            header.add(k.equals(RunResults.MEAN_NLL) ? "on mean NLL (nats/token)" : "on " + k);
        }
        List<List<String>> rows = new ArrayList<>();
        rows.add(metricRow(r, keys, Definition.AVERAGE_FINAL));
        rows.add(metricRow(r, keys, Definition.AVERAGE_FORGETTING));
        rows.add(metricRow(r, keys, Definition.BWT));
        rows.add(metricRow(r, keys, Definition.FWT));
        rows.add(metricRow(r, keys, Definition.LCA));
        rows.add(metricRow(r, keys, Definition.PLASTICITY));
        doc.table(new Doc.Table("Metrics after " + r.primary().stage() + " of "
                + r.results().tasks().size() + " stages (formulas under Definitions)", header,
                rows));
        if (!r.vsBaseline().isEmpty()) {
            List<List<String>> vs = new ArrayList<>();
            for (Map.Entry<String, BaselineComparison> e : r.vsBaseline().entrySet()) {
                BaselineComparison b = e.getValue();
                vs.add(List.of(e.getKey(), Fmt.percent(b.forgettingReduction()),
                        Fmt.signed(b.forgettingDelta(), 4), Fmt.signed(b.plasticityLoss(), 4),
                        Fmt.ratio(b.wallTimeRatio())));
            }
            doc.table(new Doc.Table("Against naive fine-tuning", List.of("score",
                    "forgetting reduced", "forgetting F_naive - F_run", "plasticity lost",
                    "wall time ratio"), vs));
        }
    }

    private static List<String> metricRow(RunReport r, List<String> keys, Definition d) {
        List<String> row = new ArrayList<>(List.of(d.label()));
        for (String k : keys) {
            ForgettingMetrics m = r.metrics().get(k);
            double v = switch (d) {
                case AVERAGE_FINAL -> m.averageFinal();
                case AVERAGE_FORGETTING -> m.averageForgetting();
                case BWT -> m.backwardTransfer();
                case FWT -> m.forwardTransfer();
                case LCA -> m.learningCurveArea();
                case PLASTICITY -> m.averageRightAfter();
                default -> throw new IllegalArgumentException(d.name());
            };
            boolean signed = d == Definition.AVERAGE_FORGETTING || d == Definition.BWT
                    || d == Definition.FWT;
            String cell = signed ? Fmt.signed(v, 4) : Fmt.fixed(v, 4);
            if (k.equals(RunResults.MEAN_NLL) && (d == Definition.AVERAGE_FINAL
                    || d == Definition.PLASTICITY || d == Definition.LCA)) {
                cell += " (ppl " + Fmt.ppl(Math.exp(v)) + ")";
            }
            row.add(cell);
        }
        return row;
    }

    private static void timings(Doc doc, RunReport r) {
        RunResults res = r.results();
        if (res.stages().isEmpty()) {
            return;
        }
        List<List<String>> rows = new ArrayList<>();
        for (Cost.Stage s : res.stages()) {
            rows.add(List.of(String.valueOf(s.stage()), s.task(), Fmt.count(s.steps()),
                    Fmt.count(s.tokensSeen()), Fmt.count(s.replayTokens()),
                    Fmt.seconds(s.trainSeconds()), Fmt.seconds(s.fisherSeconds()),
                    Fmt.seconds(s.evalSeconds()), Fmt.seconds(s.driftSeconds()),
                    Fmt.seconds(s.wallSeconds()),
                    Fmt.fixed(s.trainSeconds() > 0 ? s.tokensSeen() / s.trainSeconds()
                            : Double.NaN, 0)));
        }
        Cost c = r.cost();
        rows.add(List.of("total", "", Fmt.count(res.stages().stream()
                .mapToLong(Cost.Stage::steps).sum()), Fmt.count(c.tokensSeen()),
                Fmt.count(c.replayTokens()), Fmt.seconds(c.trainSeconds()),
                Fmt.seconds(c.fisherSeconds()), Fmt.seconds(c.evalSeconds()),
                Fmt.seconds(res.stages().stream().mapToDouble(Cost.Stage::driftSeconds).sum()),
                Fmt.seconds(c.wallSeconds()), Fmt.fixed(c.tokensPerSecond(), 0)));
        String peak = "run".equals(res.peakRssScope())
                ? "peak resident memory of the process during the run "
                : "peak resident memory of the process since it started, which may include"
                        + " earlier runs: ";
        doc.table(new Doc.Table("Cost (" + peak + Fmt.bytes(c.peakRssBytes())
                + "; extra cost of the strategy: Fisher time and replayed tokens)",
                List.of("stage", "task", "steps", "tokens seen", "replay tokens", "train",
                        "Fisher", "eval", "drift", "wall", "tokens/s"), rows));
    }

    /**
     * The held-out domains ({@code --eval-domains}): never trained on, scored after every stage:
     * the general ability the run keeps, perplexity per stage and the last row against the base.
     */
    private static void heldOut(Doc doc, RunResults res, List<String> rowLabels) {
        RunResults.HeldOut h = res.heldOut();
        if (h == null || h.rowCount() == 0) {
            return;
        }
        List<String> header = new ArrayList<>(List.of("after"));
        header.addAll(h.tasks());
        List<List<String>> rows = new ArrayList<>();
        for (int k = 0; k < h.rowCount(); k++) {
            List<String> row = new ArrayList<>(List.of(k < rowLabels.size() ? rowLabels.get(k)
                    : "after stage " + k));
            for (int j = 0; j < h.taskCount(); j++) {
                row.add(Fmt.ppl(Math.exp(h.get(k, j))));
            }
            rows.add(row);
        }
        int last = h.rowCount() - 1;
        List<String> vs = new ArrayList<>(List.of("last vs base"));
        for (int j = 0; j < h.taskCount(); j++) {
            vs.add(Fmt.ratio(Math.exp(h.get(last, j) - h.get(0, j))));
        }
        rows.add(vs);
        doc.table(new Doc.Table("Held-out domains (never trained on): perplexity", header,
                rows));
    }

    /** At most this many points per series of the training-loss chart (means of buckets). */
    private static final int LOSS_POINTS = 1500;

    /** The training loss against the step, from the run's metrics.jsonl (when it has one). */
    private static void trainingLoss(Doc doc, RunReport r) {
        RunResults res = r.results();
        List<JsonNode> steps = new ArrayList<>();
        try {
            if (res.dir() != null) {
                for (JsonNode l : MetricsLog.read(res.dir())) {
                    if (l.path("type").asText().equals("step")) {
                        steps.add(l);
                    }
                }
            }
        } catch (java.io.IOException e) {
            doc.paragraph("Training loss: " + MetricsLog.FILE + " could not be read ("
                    + e.getMessage() + ").");
            return;
        }
        if (steps.isEmpty()) {
            return;
        }
        List<String> names = new ArrayList<>();
        List<List<double[]>> points = new ArrayList<>();
        int bucket = (steps.size() + LOSS_POINTS - 1) / LOSS_POINTS;
        String[][] series = {{"loss", "objective (data loss + penalty)"}, {"new", "new windows"},
            {"replay", "replayed windows"}};
        for (String[] x : series) {
            List<double[]> pts = new ArrayList<>();
            for (int i = 0; i < steps.size(); i += bucket) {
                double sum = 0;
                double step = 0;
                int n = 0;
                for (int j = i; j < Math.min(steps.size(), i + bucket); j++) {
                    JsonNode v = steps.get(j).get(x[0]);
                    if (v != null && v.isNumber()) {
                        sum += v.asDouble();
                        step += steps.get(j).get("step").asDouble();
                        n++;
                    }
                }
                if (n > 0) {
                    pts.add(new double[] {step / n, sum / n});
                }
            }
            if (!pts.isEmpty()) {
                names.add(x[1]);
                points.add(pts);
            }
        }
        doc.heading(3, "Training loss: " + r.label(), null);
        doc.chart("Training loss against training step, " + r.label(),
                () -> Charts.curves("Training loss: " + r.label(), "loss (nats per token)",
                        names, points, res.boundaries(), res.tasks(), List.of(), false,
                        res.consolidations()),
                ReportDocument.WIDTH, 400);
        doc.paragraph("From " + MetricsLog.FILE + ": every optimizer step"
                + (bucket > 1 ? ", as means over " + bucket + " steps" : "") + ". Dashed lines:"
                + " stage boundaries, labelled with the domain trained from there."
                + (res.consolidations().isEmpty() ? "" : " Solid red lines: where this"
                        + " task-free run's detector found a plateau or it consolidated"
                        + " (results.json, stream.consolidations); the run was not told the"
                        + " boundaries."));
    }

    private static void curves(Doc doc, Report report, RunReport r) {
        RunResults res = r.results();
        if (res.curves().isEmpty()) {
            return;
        }
        List<String> domains = res.tasks();
        List<List<double[]>> points = new ArrayList<>();
        for (String d : domains) {
            List<double[]> pts = new ArrayList<>();
            for (CurvePoint p : res.curves()) {
                if (p.task().equals(d)) {
                    pts.add(new double[] {p.step(), p.perplexity()});
                }
            }
            points.add(pts);
        }
        List<long[]> windows = r.stabilityGap().stream()
                .map(g -> new long[] {g.boundary(), g.windowEnd()}).distinct().toList();
        doc.heading(3, "Continual evaluation: " + r.label(), null);
        doc.chart("Validation perplexity against training step, " + r.label(),
                () -> Charts.curves("Validation perplexity: " + r.label(),
                        "validation perplexity", domains, points, res.boundaries(), domains,
                        windows, true), ReportDocument.WIDTH, 460);
        Report.GapSettings s = report.settings();
        doc.paragraph("Dashed lines: stage boundaries, labelled with the domain trained from"
                + " there. Shaded: the stability-gap window, the first "
                + Fmt.percent(s.windowFraction()) + " of the stage after each boundary;"
                + " recovery = back within " + Fmt.percent(s.tolerance()) + " of the value at"
                + " the boundary.");
        if (r.stabilityGap().isEmpty()) {
            return;
        }
        List<List<String>> rows = new ArrayList<>();
        for (StabilityGap.Row g : r.stabilityGap()) {
            Long rec = g.stepsToRecover();
            rows.add(List.of(Fmt.count(g.boundary()), g.stageTask(), g.task(),
                    Fmt.ppl(g.atBoundary()),
                    Double.isNaN(g.worst()) ? "no point in window"
                            : Fmt.ppl(g.worst()) + " @ " + g.worstStep(),
                    Fmt.ratio(g.ratio()), rec == null ? "not recovered"
                            : rec == 0 ? "no gap" : rec + " steps"));
        }
        doc.table(new Doc.Table("Stability gap", List.of("boundary step", "stage starts",
                "earlier domain", "ppl at boundary", "worst ppl in window", "worst / boundary",
                "recovered after"), rows));
    }

    private static void drift(Doc doc, RunReport r) {
        DriftMap d = r.drift();
        if (d.isEmpty()) {
            return;
        }
        RunResults res = r.results();
        List<String> stageLabels = d.stages().stream().map(s -> "stage " + s
                + (s >= 0 && s < res.tasks().size() ? ": " + res.tasks().get(s) : "")).toList();
        doc.heading(3, "Where the forgetting happened: " + r.label(), null);
        doc.paragraph("Weight drift per layer and stage (" + d.weighting() + " weighting): "
                + Definition.DRIFT.formula() + ".");
        double[][] byGroup = d.byGroup();
        doc.chart("Layer drift heat map, " + r.label(), () -> Charts.heatMap("Layer drift: "
                + r.label(), d.weighting() + " weighting; colour on a log scale; bright ="
                + " moved more", d.groups(), stageLabels, byGroup, Charts.Colour.GLOBAL_LOG,
                true, Fmt::sci), ReportDocument.WIDTH, 90 + 34 * d.groups().size());
        List<List<String>> rows = new ArrayList<>();
        for (int g = 0; g < d.groups().size(); g++) {
            List<String> row = new ArrayList<>(List.of(d.groups().get(g)));
            for (double v : byGroup[g]) {
                row.add(Fmt.sci(v));
            }
            rows.add(row);
        }
        List<String> header = new ArrayList<>(List.of("layer"));
        header.addAll(stageLabels);
        doc.table(new Doc.Table("Drift per layer", header, rows));
        List<List<String>> top = new ArrayList<>();
        for (DriftMap.TensorTotal t : d.tensors().subList(0, Math.min(8, d.tensors().size()))) {
            top.add(List.of(t.tensor(), t.group(), Fmt.sci(t.total())));
        }
        doc.table(new Doc.Table("Tensors that moved most (all stages)", List.of("tensor",
                "layer", "drift"), top));
    }
}
