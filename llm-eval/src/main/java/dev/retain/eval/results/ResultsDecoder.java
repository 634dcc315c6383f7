package dev.retain.eval.results;

import static dev.retain.eval.results.ResultsCodec.ACCURACY;
import static dev.retain.eval.results.ResultsCodec.CLASSIFIER;
import static dev.retain.eval.results.ResultsCodec.LM;
import static dev.retain.eval.results.ResultsCodec.MEAN_NLL;
import static dev.retain.eval.results.ResultsCodec.PERPLEXITY;
import static dev.retain.eval.results.ResultsCodec.TOKEN_ACCURACY;
import static dev.retain.eval.results.ResultsKeys.*;

import dev.retain.core.UserError;
import dev.retain.core.util.Json;
import dev.retain.eval.metrics.Cost;
import dev.retain.eval.metrics.CurvePoint;
import dev.retain.eval.metrics.DriftMap;
import dev.retain.eval.metrics.ScoreMatrix;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The reading half of {@link ResultsCodec}: checks a parsed {@code results.json} and builds its
 * {@link RunResults}, naming the file and the field in every error. Fields that earlier versions
 * did not write take their documented defaults.
 */
final class ResultsDecoder {

    private final Path file;

    ResultsDecoder(Path file) {
        this.file = file;
    }

    private UserError bad(String what) {
        return new UserError(file + ": " + what + "; the file is damaged or not written by"
                + " retain: rerun retain train for this run");
    }

    RunResults decode(JsonNode root, Path dir) {
        if (!root.isObject()) {
            throw bad("expected a JSON object at the top");
        }
        String schema = root.path(SCHEMA_KEY).asText("");
        if (!ResultsCodec.SCHEMA.equals(schema)) {
            throw new UserError(file + ": schema is '" + schema + "', expected '"
                    + ResultsCodec.SCHEMA + "': written by another version of retain? report it"
                    + " with that version");
        }
        String kind = text(root, KIND, LM);
        if (!kind.equals(LM) && !kind.equals(CLASSIFIER)) {
            throw bad("kind is '" + kind + "', expected lm or classifier");
        }
        String status = text(root, STATUS, COMPLETE);
        if (!status.equals(COMPLETE) && !status.equals(RUNNING) && !status.equals(DIVERGED)) {
            throw bad("status is '" + status + "', expected complete, running or diverged");
        }
        String divergence = null;
        if (status.equals(DIVERGED)) {
            divergence = text(root.path(DIVERGENCE), MESSAGE, "training diverged (no details"
                    + " recorded)");
        }
        JsonNode run = root.path(RUN);
        String dirName = dir.toAbsolutePath().normalize().getFileName() == null ? "run"
                : dir.toAbsolutePath().normalize().getFileName().toString();
        String name = text(run, NAME, dirName);
        String strategy = text(run, STRATEGY, name);
        List<String> tasks = tasks(root);
        Map<String, ScoreMatrix> scores = new LinkedHashMap<>();
        JsonNode sc = root.path(SCORES);
        if (!sc.isObject()) {
            throw bad("missing the scores object");
        }
        ScoreMatrix std = null;
        int seeds = 0;
        if (kind.equals(CLASSIFIER)) {
            scores.put(ACCURACY, matrix(sc, ACCURACY, tasks, true, true));
            if (sc.path(ACCURACY).has(STD_ROWS)) {
                std = rows(sc.path(ACCURACY).path(STD_ROWS), SCORES + "." + ACCURACY + "."
                        + STD_ROWS, "accuracy_std", tasks, true);
            }
            seeds = (int) whole(sc.path(ACCURACY), SEEDS, 0, SCORES + "." + ACCURACY);
        } else {
            ScoreMatrix nll = matrix(sc, MEAN_NLL, tasks, false, false);
            ScoreMatrix ppl = matrix(sc, PERPLEXITY, tasks, false, false);
            if (nll == null && ppl == null) {
                throw bad("scores has neither mean_nll nor perplexity");
            }
            if (ppl == null) {
                ppl = exp(nll);
            }
            if (nll == null) {
                nll = ppl.log(MEAN_NLL);
            }
            scores.put(PERPLEXITY, ppl);
            scores.put(MEAN_NLL, nll);
            ScoreMatrix acc = matrix(sc, TOKEN_ACCURACY, tasks, true, false);
            if (acc != null) {
                scores.put(TOKEN_ACCURACY, acc);
            }
        }
        return new RunResults(dir, file, kind, status, divergence, name, strategy,
                text(run, STARTED, null), text(run, FINISHED, null),
                object(root, CONFIG), object(root, ENVIRONMENT), object(root, MODEL),
                tasks, scores, std, seeds, stages(root), boundaries(root), curves(root),
                root.path(DRIFT).isObject() ? text(root.path(DRIFT), WEIGHTING, "none") : null,
                drift(root), whole(root, PEAK_RSS_BYTES, -1, null),
                ResultsCodec.peakRssScope(root),
                List.of(), heldOut(root, tasks.size()),
                TaskScoresCodec.read(root, tasks.size() + 1, this::bad), taskFree(root));
    }

    /**
     * A number field: its default when absent or null, else a number (anything else, such as
     * {@code "slow"}, is refused rather than read as 0).
     */
    private double number(JsonNode n, String field, double dflt, String where) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isNumber()) {
            throw bad(name(where, field) + " is " + v + ", not a number");
        }
        return v.asDouble();
    }

    /** A whole-number field, as {@link #number} is for numbers. */
    private long whole(JsonNode n, String field, long dflt, String where) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isNumber() || !v.canConvertToExactIntegral() || !v.canConvertToLong()) {
            throw bad(name(where, field) + " is " + v + ", not a whole number");
        }
        return v.asLong();
    }

    /** A true/false field, as {@link #number} is for numbers. */
    private boolean bool(JsonNode n, String field, boolean dflt, String where) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isBoolean()) {
            throw bad(name(where, field) + " is " + v + ", not true or false");
        }
        return v.asBoolean();
    }

    private static String name(String where, String field) {
        return where == null ? field : where + "." + field;
    }

    private static String text(JsonNode n, String field, String dflt) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? dflt : v.asText();
    }

    private static ObjectNode object(JsonNode root, String field) {
        JsonNode v = root.get(field);
        return v instanceof ObjectNode o ? o.deepCopy() : Json.object();
    }

    private List<String> tasks(JsonNode root) {
        JsonNode t = root.path(TASKS);
        if (!t.isArray() || t.isEmpty()) {
            throw bad("tasks must be a non-empty list of names");
        }
        List<String> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (JsonNode n : t) {
            if (!n.isTextual()) {
                throw bad("tasks must be names (strings)");
            }
            if (!seen.add(n.asText())) {
                throw bad("task '" + n.asText() + "' is listed twice in tasks");
            }
            out.add(n.asText());
        }
        return out;
    }

    private ScoreMatrix matrix(JsonNode scores, String metric, List<String> tasks,
            boolean dfltHigher, boolean required) {
        JsonNode m = scores.get(metric);
        if (m == null || m.isNull()) {
            if (required) {
                throw bad("missing " + SCORES + "." + metric);
            }
            return null;
        }
        boolean higher = bool(m, HIGHER_IS_BETTER, dfltHigher, SCORES + "." + metric);
        return rows(m.path(ROWS), SCORES + "." + metric + "." + ROWS, metric, tasks, higher);
    }

    /**
     * The held-out domains' mean NLL after each stage ({@code held_out}), or null without any.
     */
    private RunResults.HeldOut heldOut(JsonNode root, int stages) {
        JsonNode h = root.get(HELD_OUT);
        if (h == null || h.isNull()) {
            return null;
        }
        List<String> names = new ArrayList<>();
        h.path(DOMAINS).forEach(n -> names.add(n.asText()));
        if (names.isEmpty()) {
            throw bad(HELD_OUT + "." + DOMAINS + " must name the held-out domains");
        }
        JsonNode rows = h.path(MEAN_NLL).path(ROWS);
        if (!rows.isArray() || rows.size() > stages + 1) {
            throw bad(HELD_OUT + "." + MEAN_NLL + "." + ROWS + " must be a list of at most "
                    + (stages + 1) + " rows (the base model's, then one per stage)");
        }
        double[][] r = new double[rows.size()][names.size()];
        for (int k = 0; k < rows.size(); k++) {
            for (int j = 0; j < names.size(); j++) {
                JsonNode v = rows.get(k).get(j);
                if (v == null || !v.isNumber() || !Double.isFinite(v.asDouble())
                        || v.asDouble() < 0) {
                    throw bad(HELD_OUT + "." + MEAN_NLL + "." + ROWS + "[" + k + "][" + j
                            + "] is not a mean NLL (a finite number, not negative)");
                }
                r[k][j] = v.asDouble();
            }
        }
        return new RunResults.HeldOut(List.copyOf(names), r);
    }

    private ScoreMatrix rows(JsonNode rows, String where, String metric, List<String> tasks,
            boolean higher) {
        if (!rows.isArray()) {
            throw bad(where + " must be a list of rows");
        }
        if (rows.size() > tasks.size() + 1) {
            throw bad(where + " has " + rows.size() + " rows for " + tasks.size()
                    + " tasks (at most tasks + 1, the first being the base model)");
        }
        double[][] r = new double[rows.size()][];
        for (int k = 0; k < rows.size(); k++) {
            JsonNode row = rows.get(k);
            if (!row.isArray() || row.size() != tasks.size()) {
                throw bad(where + "[" + k + "] must hold " + tasks.size()
                        + " numbers, one per task");
            }
            r[k] = new double[tasks.size()];
            for (int j = 0; j < tasks.size(); j++) {
                JsonNode v = row.get(j);
                if (!v.isNumber() || !Double.isFinite(v.asDouble())) {
                    throw bad(where + "[" + k + "][" + j + "] is not a finite number");
                }
                String range = outOfRange(metric, v.asDouble());
                if (range != null) {
                    throw bad(where + "[" + k + "][" + j + "] is " + v.asDouble() + ", " + range);
                }
                r[k][j] = v.asDouble();
            }
        }
        return new ScoreMatrix(metric, tasks, r, higher);
    }

    /** @return why a value cannot be a score of this metric, or null when it can */
    private static String outOfRange(String metric, double v) {
        return switch (metric) {
            case PERPLEXITY -> v >= 1 ? null : "but a perplexity is at least 1 (the exponential"
                    + " of a mean NLL, which is never negative)";
            case MEAN_NLL -> v >= 0 ? null : "but a mean NLL is never negative";
            case TOKEN_ACCURACY, ACCURACY -> v >= 0 && v <= 1 ? null : "but an accuracy lies"
                    + " between 0 and 1";
            default -> v >= 0 ? null : "but it cannot be negative";
        };
    }

    private static ScoreMatrix exp(ScoreMatrix nll) {
        double[][] r = nll.rows();
        for (double[] row : r) {
            for (int j = 0; j < row.length; j++) {
                row[j] = Math.exp(row[j]);
            }
        }
        return new ScoreMatrix(PERPLEXITY, nll.tasks(), r, false);
    }

    private JsonNode array(JsonNode root, String field) {
        JsonNode a = root.get(field);
        if (a == null || a.isNull()) {
            return Json.MAPPER.createArrayNode();
        }
        if (!a.isArray()) {
            throw bad(field + " must be a list");
        }
        return a;
    }

    private List<Cost.Stage> stages(JsonNode root) {
        List<Cost.Stage> out = new ArrayList<>();
        int i = 0;
        for (JsonNode s : array(root, STAGES)) {
            if (!s.isObject() || !s.path(TASK).isTextual()) {
                throw bad(STAGES + "[" + i + "] must be an object with a task");
            }
            String w = STAGES + "[" + i + "]";
            out.add(new Cost.Stage((int) whole(s, STAGE, i, w), s.path(TASK).asText(),
                    whole(s, STEPS, 0, w), whole(s, TOKENS_SEEN, 0, w),
                    whole(s, NEW_TOKENS, 0, w), whole(s, REPLAY_TOKENS, 0, w),
                    number(s, TRAIN_SECONDS, 0, w), number(s, FISHER_SECONDS, 0, w),
                    number(s, EVAL_SECONDS, 0, w), number(s, DRIFT_SECONDS, 0, w),
                    number(s, WALL_SECONDS, 0, w), whole(s, TOKEN_PASSES, 0, w)));
            i++;
        }
        return out;
    }

    /** A task-free run's {@code stream} object; null for other runs. */
    private TaskFree taskFree(JsonNode root) {
        JsonNode st = root.path("stream");
        if (!st.isObject()) {
            return null;
        }
        List<TaskFree.Consolidation> cs = new ArrayList<>();
        for (JsonNode c : st.path("consolidations")) {
            TaskFree.Consolidation one = TaskFree.Consolidation.of(c);
            if (one == null) {
                throw bad("stream.consolidations: each needs a whole step number");
            }
            cs.add(one);
        }
        List<TaskFree.Point> ps = new ArrayList<>();
        for (JsonNode p : st.path("points")) {
            JsonNode nll = p.path("mean_nll");
            if (!p.path("step").canConvertToLong() || !nll.isArray()) {
                throw bad("stream.points: each needs a step and a mean_nll row");
            }
            double[] row = new double[nll.size()];
            for (int j = 0; j < row.length; j++) {
                row[j] = nll.get(j).asDouble(Double.NaN);
            }
            ps.add(new TaskFree.Point(p.path("step").asLong(), p.path("tokens").asLong(), row));
        }
        return new TaskFree(st.path("consolidate").asText(""), cs, ps);
    }

    private List<Long> boundaries(JsonNode root) {
        List<Long> out = new ArrayList<>();
        for (JsonNode b : array(root, BOUNDARIES)) {
            if (!b.canConvertToLong()) {
                throw bad(BOUNDARIES + " must be whole step numbers");
            }
            out.add(b.asLong());
        }
        for (int i = 1; i < out.size(); i++) {
            if (out.get(i) < out.get(i - 1)) {
                throw bad(BOUNDARIES + " must not decrease (" + out + ")");
            }
        }
        return out;
    }

    private List<CurvePoint> curves(JsonNode root) {
        List<CurvePoint> out = new ArrayList<>();
        int i = 0;
        for (JsonNode p : array(root, CURVES)) {
            if (!p.path(STEP).canConvertToLong() || !p.path(TASK).isTextual()
                    || !p.path(PERPLEXITY).isNumber()) {
                throw bad(CURVES + "[" + i + "] needs step, task and perplexity");
            }
            String w = CURVES + "[" + i + "]";
            out.add(new CurvePoint(p.path(STEP).asLong(), (int) whole(p, STAGE, -1, w),
                    p.path(TASK).asText(), p.path(PERPLEXITY).asDouble(),
                    number(p, MEAN_NLL, Double.NaN, w),
                    number(p, TOKEN_ACCURACY, Double.NaN, w)));
            i++;
        }
        return out;
    }

    private List<DriftMap.Entry> drift(JsonNode root) {
        List<DriftMap.Entry> out = new ArrayList<>();
        JsonNode d = root.path(DRIFT);
        if (!d.isObject()) {
            return out;
        }
        int i = 0;
        for (JsonNode r : array(d, ROWS)) {
            if (!r.path(TENSOR).isTextual() || !r.path(VALUE).isNumber()) {
                throw bad(DRIFT + "." + ROWS + "[" + i + "] needs stage, tensor, group and"
                        + " value");
            }
            String tensor = r.path(TENSOR).asText();
            out.add(new DriftMap.Entry((int) whole(r, STAGE, 0, DRIFT + "." + ROWS + "[" + i
                    + "]"), tensor,
                    text(r, GROUP, tensor), r.path(VALUE).asDouble()));
            i++;
        }
        return out;
    }
}
