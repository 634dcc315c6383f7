package dev.retain.eval.report;

import dev.retain.eval.EvalResult;
import dev.retain.eval.metrics.BaselineComparison;
import dev.retain.eval.metrics.Cost;
import dev.retain.eval.metrics.CurvePoint;
import dev.retain.eval.metrics.Definition;
import dev.retain.eval.metrics.DriftMap;
import dev.retain.eval.metrics.ForgettingMetrics;
import dev.retain.eval.metrics.ScoreMatrix;
import dev.retain.eval.metrics.StabilityGap;
import dev.retain.core.util.Json;
import dev.retain.eval.results.RunResults;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Map;

/**
 * The report as JSON (report.json, schema {@code retain.report/1}, described by
 * docs/report-schema.json). Undefined numbers ({@code NaN}) are written as {@code null}.
 */
final class JsonReport {

    private JsonReport() {}

    /**
     * @param report the report
     * @return its JSON tree
     */
    static ObjectNode of(Report report) {
        ObjectNode root = Json.object();
        root.put("schema", Report.SCHEMA);
        root.put("generated", report.generated().toString());
        root.put("mode", report.mode());
        root.put("kind", report.kind());
        strings(root.putArray("tasks"), report.tasks());
        ObjectNode s = root.putObject("settings");
        s.put("stability_window_fraction", report.settings().windowFraction());
        s.put("recovery_tolerance", report.settings().tolerance());
        ArrayNode defs = root.putArray("definitions");
        for (Definition d : Definition.values()) {
            ObjectNode n = defs.addObject();
            n.put("key", d.key());
            n.put("name", d.label());
            n.put("formula", d.formula());
            n.put("meaning", d.meaning());
        }
        ArrayNode runs = root.putArray("runs");
        for (RunReport r : report.runs()) {
            run(runs.addObject(), r);
        }
        ObjectNode ranking = root.putObject("ranking");
        ranking.put("baseline", report.baseline());
        ranking.put("order", "complete runs, best average final " + (report.isClassifier()
                ? "accuracy" : "mean NLL") + " first");
        ArrayNode rows = ranking.putArray("rows");
        for (Report.Rank k : report.ranking()) {
            ObjectNode n = rows.addObject();
            n.put("rank", k.rank());
            n.put("run", k.run());
            n.put("strategy", k.strategy());
            num(n, "average_final", k.metrics().averageFinal());
            num(n, "average_forgetting", k.metrics().averageForgetting());
            num(n, "backward_transfer", k.metrics().backwardTransfer());
            num(n, "average_right_after", k.metrics().averageRightAfter());
            num(n, "wall_seconds", k.wallSeconds());
            comparison(n, "vs_baseline", k.vsBaseline());
        }
        strings(ranking.putArray("not_ranked"), report.notRanked());
        strings(root.putArray("warnings"), report.warnings());
        return root;
    }

    private static void run(ObjectNode n, RunReport r) {
        RunResults res = r.results();
        n.put("name", r.label());
        n.put("run_name", res.name());
        n.put("strategy", res.strategy());
        n.put("status", res.status());
        if (res.diverged()) {
            n.put("divergence", res.divergence());
        }
        n.put("results_file", res.file() == null ? null : res.file().toString());
        n.put("started", res.started());
        n.put("finished", res.finished());
        n.put("stages_done", r.primary() == null ? 0 : r.primary().stage());
        n.put("stages_total", res.isSingleModel() ? 0 : res.tasks().size());
        strings(n.putArray("tasks"), res.tasks());
        strings(n.putArray("missing_stages"), r.missingStages());
        n.set("config", res.config());
        n.set("environment", res.environment());
        n.set("model", res.model());
        ObjectNode matrices = n.putObject("matrices");
        for (Map.Entry<String, ScoreMatrix> e : res.scores().entrySet()) {
            matrix(matrices.putObject(e.getKey()), e.getValue());
        }
        if (res.accuracyStd() != null) {
            matrix(matrices.putObject("accuracy_std"), res.accuracyStd());
        }
        ObjectNode metrics = n.putObject("metrics");
        for (Map.Entry<String, ForgettingMetrics> e : r.metrics().entrySet()) {
            metrics(metrics.putObject(e.getKey()), e.getValue());
        }
        ObjectNode vs = n.putObject("vs_baseline");
        for (Map.Entry<String, BaselineComparison> e : r.vsBaseline().entrySet()) {
            comparison(vs, e.getKey(), e.getValue());
        }
        timings(n.putObject("timings"), r);
        ArrayNode b = n.putArray("boundaries");
        res.boundaries().forEach(b::add);
        ArrayNode curves = n.putArray("curves");
        for (CurvePoint p : res.curves()) {
            ObjectNode c = curves.addObject();
            c.put("step", p.step());
            c.put("stage", p.stage());
            c.put("task", p.task());
            num(c, "perplexity", p.perplexity());
            num(c, "mean_nll", p.meanNll());
            num(c, "token_accuracy", p.tokenAccuracy());
        }
        ArrayNode gap = n.putArray("stability_gap");
        for (StabilityGap.Row g : r.stabilityGap()) {
            ObjectNode o = gap.addObject();
            o.put("stage", g.stage());
            o.put("stage_task", g.stageTask());
            o.put("boundary", g.boundary());
            o.put("window_end", g.windowEnd());
            o.put("task", g.task());
            num(o, "at_boundary", g.atBoundary());
            o.put("at_boundary_step", g.atBoundaryStep());
            num(o, "worst", g.worst());
            if (g.worstStep() >= 0) {
                o.put("worst_step", g.worstStep());
            } else {
                o.putNull("worst_step");
            }
            num(o, "gap", g.gap());
            num(o, "ratio", g.ratio());
            o.put("recovered_step", g.recoveredStep());
            o.put("steps_to_recover", g.stepsToRecover());
        }
        drift(n, r.drift());
        if (res.taskScores() != null) {
            res.taskScores().write(n);
        }
        if (res.taskFree() != null) {
            stream(n.putObject("stream"), res);
        }
        ArrayNode ev = n.putArray("evaluation");
        for (EvalResult e : res.evaluation()) {
            ObjectNode o = ev.addObject();
            o.put("domain", e.domain());
            o.put("tokens", e.tokens());
            o.put("predicted", e.predicted());
            num(o, "perplexity", e.perplexity());
            num(o, "mean_nll", e.meanNll());
            num(o, "token_accuracy", e.tokenAccuracy());
            num(o, "seconds", e.seconds());
        }
    }

    private static void matrix(ObjectNode n, ScoreMatrix m) {
        n.put("higher_is_better", m.higherIsBetter());
        ArrayNode rows = n.putArray("rows");
        for (double[] row : m.rows()) {
            ArrayNode a = rows.addArray();
            for (double v : row) {
                a.add(v);
            }
        }
    }

    private static void metrics(ObjectNode n, ForgettingMetrics m) {
        n.put("higher_is_better", m.higherIsBetter());
        n.put("stage", m.stage());
        num(n, "average_final", m.averageFinal());
        num(n, "average_forgetting", m.averageForgetting());
        num(n, "backward_transfer", m.backwardTransfer());
        num(n, "forward_transfer", m.forwardTransfer());
        num(n, "learning_curve_area", m.learningCurveArea());
        num(n, "average_right_after", m.averageRightAfter());
        boolean nll = m.metric().equals(RunResults.MEAN_NLL);
        if (nll) {
            num(n, "average_final_perplexity", Math.exp(m.averageFinal()));
        }
        double[] ratio = m.expRatioFinalOverRightAfter();
        ArrayNode per = n.putArray("per_task");
        for (int j = 0; j < m.tasks().size(); j++) {
            ObjectNode o = per.addObject();
            o.put("task", m.tasks().get(j));
            num(o, "final", m.finalScores()[j]);
            num(o, "right_after", m.rightAfter()[j]);
            num(o, "best_earlier", m.bestEarlier()[j]);
            num(o, "forgetting", m.forgetting()[j]);
            if (nll) {
                num(o, "perplexity_ratio", ratio[j]);
            }
        }
    }

    private static void comparison(ObjectNode parent, String field, BaselineComparison b) {
        if (b == null) {
            parent.putNull(field);
            return;
        }
        ObjectNode o = parent.putObject(field);
        num(o, "forgetting_reduction", b.forgettingReduction());
        num(o, "forgetting_delta", b.forgettingDelta());
        num(o, "plasticity_loss", b.plasticityLoss());
        num(o, "wall_time_ratio", b.wallTimeRatio());
        num(o, "compute_ratio", b.computeRatio());
    }

    private static void timings(ObjectNode n, RunReport r) {
        ArrayNode stages = n.putArray("stages");
        for (Cost.Stage s : r.results().stages()) {
            ObjectNode o = stages.addObject();
            o.put("stage", s.stage());
            o.put("task", s.task());
            o.put("steps", s.steps());
            o.put("tokens_seen", s.tokensSeen());
            o.put("new_tokens", s.newTokens());
            o.put("replay_tokens", s.replayTokens());
            num(o, "train_seconds", s.trainSeconds());
            num(o, "fisher_seconds", s.fisherSeconds());
            num(o, "eval_seconds", s.evalSeconds());
            num(o, "drift_seconds", s.driftSeconds());
            num(o, "wall_seconds", s.wallSeconds());
        }
        Cost c = r.cost();
        ObjectNode t = n.putObject("total");
        num(t, "wall_seconds", c.wallSeconds());
        num(t, "train_seconds", c.trainSeconds());
        num(t, "eval_seconds", c.evalSeconds());
        num(t, "fisher_seconds", c.fisherSeconds());
        t.put("tokens_seen", c.tokensSeen());
        t.put("replay_tokens", c.replayTokens());
        num(t, "tokens_per_second", c.tokensPerSecond());
        if (c.peakRssBytes() >= 0) {
            t.put("peak_rss_bytes", c.peakRssBytes());
        } else {
            t.putNull("peak_rss_bytes");
        }
        t.put("peak_rss_scope", r.results().peakRssScope() == null ? "process"
                : r.results().peakRssScope());
    }

    private static void drift(ObjectNode n, DriftMap d) {
        if (d.isEmpty()) {
            n.putNull("drift");
            return;
        }
        ObjectNode o = n.putObject("drift");
        o.put("weighting", d.weighting());
        strings(o.putArray("groups"), d.groups());
        ArrayNode st = o.putArray("stages");
        d.stages().forEach(st::add);
        ArrayNode by = o.putArray("by_group");
        for (double[] row : d.byGroup()) {
            ArrayNode a = by.addArray();
            for (double v : row) {
                a.add(v);
            }
        }
        ArrayNode top = o.putArray("tensors");
        for (DriftMap.TensorTotal t : d.tensors()) {
            ObjectNode x = top.addObject();
            x.put("tensor", t.tensor());
            x.put("group", t.group());
            x.put("total", t.total());
        }
    }

    private static void num(ObjectNode n, String field, double v) {
        if (Double.isFinite(v)) {
            n.put(field, v);
        } else {
            n.putNull(field);
        }
    }

    private static void strings(ArrayNode a, List<String> values) {
        values.forEach(a::add);
    }

    /** A task-free run's record: its rule, detections, points and forgetting over the points. */
    private static void stream(ObjectNode o, RunResults res) {
        dev.retain.eval.results.TaskFree tf = res.taskFree();
        o.put("consolidate", tf.consolidate());
        ArrayNode cs = o.putArray("consolidations");
        tf.consolidations().forEach(c -> cs.add(c.toJson()));
        ArrayNode ps = o.putArray("points");
        for (dev.retain.eval.results.TaskFree.Point p : tf.points()) {
            ObjectNode x = ps.addObject();
            x.put("step", p.step());
            x.put("tokens", p.tokens());
            ArrayNode nll = x.putArray("mean_nll");
            for (double v : p.meanNll()) {
                nll.add(v);
            }
        }
        ArrayNode f = o.putArray("point_forgetting");
        for (double v : tf.forgetting(StreamSection.seenAfter(res))) {
            if (Double.isNaN(v)) {
                f.addNull();
            } else {
                f.add(v);
            }
        }
    }
}
