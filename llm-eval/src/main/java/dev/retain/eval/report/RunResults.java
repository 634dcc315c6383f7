package dev.retain.eval.report;

import dev.retain.core.UserError;
import dev.retain.eval.EvalResult;
import dev.retain.eval.metrics.Cost;
import dev.retain.eval.metrics.CurvePoint;
import dev.retain.eval.metrics.DriftMap;
import dev.retain.eval.metrics.ScoreMatrix;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code results.json} of one run (schema {@code retain.results/1}, see
 * docs/results-schema.md), read and checked. Every problem with the file is a
 * {@link UserError} naming the file, what is wrong and what to do.
 *
 * @param dir the run directory ({@code null} for a single-model evaluation)
 * @param file the results file ({@code null} for a single-model evaluation)
 * @param kind {@code lm} or {@code classifier}
 * @param status {@code complete} or {@code running}
 * @param name the run's name ({@code run.name}, else the directory's name)
 * @param strategy the strategy ({@code run.strategy}, else the name)
 * @param started start time as written, or null
 * @param finished finish time as written, or null
 * @param config the run's config, flat (empty when absent)
 * @param environment the environment (empty when absent)
 * @param model the model's facts (empty when absent)
 * @param tasks the tasks in training order
 * @param scores the score matrices by name ({@code mean_nll}, {@code perplexity},
 *     {@code token_accuracy}; {@code accuracy} for classifiers); language-model runs always have
 *     both {@code mean_nll} and {@code perplexity} (one derived from the other when absent)
 * @param accuracyStd the classifier's standard deviation over seeds, per cell, or null
 * @param seeds the classifier's number of seeds, 0 when not given
 * @param stages the finished stages' timings
 * @param boundaries the global step at which each stage starts
 * @param curves the continual-evaluation points (empty without {@code --eval-every})
 * @param driftWeighting {@code fisher} or {@code none}, null when there is no drift
 * @param drift the per-tensor drift rows
 * @param peakRssBytes peak resident memory, -1 when not measured
 * @param peakRssScope from when that peak is measured: {@code run} (the process's peak counter
 *     was reset as the run started, so it is the peak during the run) or {@code process} (the
 *     peak since the process started, which may include earlier runs in the same process); null
 *     when not stated (files from before the reset existed: read them as {@code process})
 * @param evaluation for a single-model report, the evaluation of each domain; else empty
 */
public record RunResults(
        Path dir,
        Path file,
        String kind,
        String status,
        String name,
        String strategy,
        String started,
        String finished,
        ObjectNode config,
        ObjectNode environment,
        ObjectNode model,
        List<String> tasks,
        Map<String, ScoreMatrix> scores,
        ScoreMatrix accuracyStd,
        int seeds,
        List<Cost.Stage> stages,
        List<Long> boundaries,
        List<CurvePoint> curves,
        String driftWeighting,
        List<DriftMap.Entry> drift,
        long peakRssBytes,
        String peakRssScope,
        List<EvalResult> evaluation) {

    /** The schema this reader understands. */
    public static final String SCHEMA = "retain.results/1";

    /** The file a run directory holds. */
    public static final String FILE_NAME = "results.json";

    /** Language-model runs: the score the headline metrics are computed on. */
    public static final String MEAN_NLL = "mean_nll";

    /** Classifier runs: the score the headline metrics are computed on. */
    public static final String ACCURACY = "accuracy";

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** Copies the collections so the record is immutable. */
    public RunResults {
        tasks = List.copyOf(tasks);
        scores = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(scores));
        stages = List.copyOf(stages);
        boundaries = List.copyOf(boundaries);
        curves = List.copyOf(curves);
        drift = List.copyOf(drift);
        evaluation = List.copyOf(evaluation);
    }

    /** @return {@code mean_nll} for language models, {@code accuracy} for classifiers */
    public String primaryMetric() {
        return isClassifier() ? ACCURACY : MEAN_NLL;
    }

    /** @return true for a classifier run */
    public boolean isClassifier() {
        return "classifier".equals(kind);
    }

    /** @return the matrix the headline metrics are computed on */
    public ScoreMatrix primary() {
        return scores.get(primaryMetric());
    }

    /** @return true for a single-model evaluation (no training stages) */
    public boolean isSingleModel() {
        return !evaluation.isEmpty();
    }

    /** @return where the results came from, for messages: the file, else the name */
    public String source() {
        return file != null ? file.toString() : name;
    }

    /**
     * Reads the results of one run directory.
     *
     * @param dir the run directory (holding {@code results.json}), or that file itself
     * @return the checked results
     * @throws UserError when the directory or file is missing, not valid JSON, or not a
     *     {@code retain.results/1} file
     */
    public static RunResults load(Path dir) {
        if (!Files.exists(dir)) {
            throw new UserError(dir + ": no such directory; give a run directory written by"
                    + " retain train");
        }
        Path file = Files.isDirectory(dir) ? dir.resolve(FILE_NAME) : dir;
        if (Files.isDirectory(dir) && !Files.isRegularFile(file)) {
            throw new UserError(dir + ": no results.json: is it a retain run directory? run"
                    + " retain train first");
        }
        Path runDir = Files.isDirectory(dir) ? dir : dir.toAbsolutePath().getParent();
        JsonNode root;
        try {
            byte[] bytes = Files.readAllBytes(file);
            if (bytes.length == 0 || new String(bytes, java.nio.charset.StandardCharsets.UTF_8)
                    .isBlank()) {
                throw new UserError(file + ": the file is empty: the run was probably killed"
                        + " before its first evaluation; run retain train again");
            }
            root = MAPPER.readTree(bytes);
        } catch (JsonProcessingException e) {
            var loc = e.getLocation();
            String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column "
                    + loc.getColumnNr();
            String why = firstLine(e.getOriginalMessage());
            throw new UserError(file + ": not valid JSON (" + why + where + "): it may be half"
                    + " written by a killed run; rerun retain train for this run", e);
        } catch (IOException e) {
            throw new UserError(file + ": cannot read it (" + firstLine(e.toString()) + ")", e);
        }
        return new Parser(file).parse(root, runDir);
    }

    /**
     * The results of evaluating one model on several domains, shaped as a run with only the
     * "before training" row, for {@link ReportWriter#writeSingleModel}.
     *
     * @param name the model's display name
     * @param model facts about the model and the protocol (path, parameters, window, ...)
     * @param results one evaluation per domain, in display order
     * @return the results
     */
    public static RunResults singleModel(String name, Map<String, ?> model,
            List<EvalResult> results) {
        if (results.isEmpty()) {
            throw new IllegalArgumentException("no evaluation results");
        }
        List<String> tasks = results.stream().map(EvalResult::domain).toList();
        if (new HashSet<>(tasks).size() != tasks.size()) {
            throw new IllegalArgumentException("a domain is listed twice: " + tasks);
        }
        Map<String, ScoreMatrix> scores = new LinkedHashMap<>();
        scores.put("perplexity", oneRow("perplexity", tasks, results.stream()
                .mapToDouble(EvalResult::perplexity).toArray(), false));
        scores.put(MEAN_NLL, oneRow(MEAN_NLL, tasks, results.stream()
                .mapToDouble(EvalResult::meanNll).toArray(), false));
        scores.put("token_accuracy", oneRow("token_accuracy", tasks, results.stream()
                .mapToDouble(EvalResult::tokenAccuracy).toArray(), true));
        ObjectNode m = MAPPER.valueToTree(model);
        return new RunResults(null, null, "lm", "complete", name, null, null, null,
                MAPPER.createObjectNode(), MAPPER.createObjectNode(), m, tasks, scores, null, 0,
                List.of(), List.of(), List.of(), null, List.of(), -1, null, results);
    }

    private static ScoreMatrix oneRow(String metric, List<String> tasks, double[] row,
            boolean higher) {
        return new ScoreMatrix(metric, tasks, new double[][] {row}, higher);
    }

    static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }

    /** Reads the tree, naming the file and the field in every error. */
    private static final class Parser {

        private final Path file;

        Parser(Path file) {
            this.file = file;
        }

        private UserError bad(String what) {
            return new UserError(file + ": " + what + "; the file is damaged or not written by"
                    + " retain: rerun retain train for this run");
        }

        RunResults parse(JsonNode root, Path dir) {
            if (!root.isObject()) {
                throw bad("expected a JSON object at the top");
            }
            String schema = root.path("schema").asText("");
            if (!SCHEMA.equals(schema)) {
                throw new UserError(file + ": schema is '" + schema + "', expected '" + SCHEMA
                        + "': written by another version of retain? report it with that"
                        + " version");
            }
            String kind = text(root, "kind", "lm");
            if (!kind.equals("lm") && !kind.equals("classifier")) {
                throw bad("kind is '" + kind + "', expected lm or classifier");
            }
            String status = text(root, "status", "complete");
            if (!status.equals("complete") && !status.equals("running")) {
                throw bad("status is '" + status + "', expected complete or running");
            }
            JsonNode run = root.path("run");
            String dirName = dir.toAbsolutePath().normalize().getFileName() == null ? "run"
                    : dir.toAbsolutePath().normalize().getFileName().toString();
            String name = text(run, "name", dirName);
            String strategy = text(run, "strategy", name);
            List<String> tasks = tasks(root);
            Map<String, ScoreMatrix> scores = new LinkedHashMap<>();
            JsonNode sc = root.path("scores");
            if (!sc.isObject()) {
                throw bad("missing the scores object");
            }
            ScoreMatrix std = null;
            int seeds = 0;
            if (kind.equals("classifier")) {
                scores.put(ACCURACY, matrix(sc, ACCURACY, tasks, true, true));
                if (sc.path(ACCURACY).has("std_rows")) {
                    std = rows(sc.path(ACCURACY).path("std_rows"), "scores.accuracy.std_rows",
                            "accuracy_std", tasks, true);
                }
                seeds = sc.path(ACCURACY).path("seeds").asInt(0);
            } else {
                ScoreMatrix nll = matrix(sc, MEAN_NLL, tasks, false, false);
                ScoreMatrix ppl = matrix(sc, "perplexity", tasks, false, false);
                if (nll == null && ppl == null) {
                    throw bad("scores has neither mean_nll nor perplexity");
                }
                if (ppl == null) {
                    ppl = exp(nll);
                }
                if (nll == null) {
                    nll = ppl.log(MEAN_NLL);
                }
                scores.put("perplexity", ppl);
                scores.put(MEAN_NLL, nll);
                ScoreMatrix acc = matrix(sc, "token_accuracy", tasks, true, false);
                if (acc != null) {
                    scores.put("token_accuracy", acc);
                }
            }
            return new RunResults(dir, file, kind, status, name, strategy,
                    text(run, "started", null), text(run, "finished", null),
                    object(root, "config"), object(root, "environment"), object(root, "model"),
                    tasks, scores, std, seeds, stages(root), boundaries(root), curves(root),
                    root.path("drift").isObject() ? text(root.path("drift"), "weighting", "none")
                            : null,
                    drift(root), root.path("peak_rss_bytes").asLong(-1),
                    text(root, "peak_rss_scope", null), List.of());
        }

        private static String text(JsonNode n, String field, String dflt) {
            JsonNode v = n.get(field);
            return v == null || v.isNull() ? dflt : v.asText();
        }

        private static ObjectNode object(JsonNode root, String field) {
            JsonNode v = root.get(field);
            return v instanceof ObjectNode o ? o.deepCopy() : MAPPER.createObjectNode();
        }

        private List<String> tasks(JsonNode root) {
            JsonNode t = root.path("tasks");
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
                    throw bad("missing scores." + metric);
                }
                return null;
            }
            boolean higher = m.path("higher_is_better").asBoolean(dfltHigher);
            return rows(m.path("rows"), "scores." + metric + ".rows", metric, tasks, higher);
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
                    r[k][j] = v.asDouble();
                }
            }
            return new ScoreMatrix(metric, tasks, r, higher);
        }

        private static ScoreMatrix exp(ScoreMatrix nll) {
            double[][] r = nll.rows();
            for (double[] row : r) {
                for (int j = 0; j < row.length; j++) {
                    row[j] = Math.exp(row[j]);
                }
            }
            return new ScoreMatrix("perplexity", nll.tasks(), r, false);
        }

        private JsonNode array(JsonNode root, String field) {
            JsonNode a = root.get(field);
            if (a == null || a.isNull()) {
                return MAPPER.createArrayNode();
            }
            if (!a.isArray()) {
                throw bad(field + " must be a list");
            }
            return a;
        }

        private List<Cost.Stage> stages(JsonNode root) {
            List<Cost.Stage> out = new ArrayList<>();
            int i = 0;
            for (JsonNode s : array(root, "stages")) {
                if (!s.isObject() || !s.path("task").isTextual()) {
                    throw bad("stages[" + i + "] must be an object with a task");
                }
                out.add(new Cost.Stage(s.path("stage").asInt(i), s.path("task").asText(),
                        s.path("steps").asLong(0), s.path("tokens_seen").asLong(0),
                        s.path("new_tokens").asLong(0), s.path("replay_tokens").asLong(0),
                        s.path("train_seconds").asDouble(0), s.path("fisher_seconds").asDouble(0),
                        s.path("eval_seconds").asDouble(0), s.path("wall_seconds").asDouble(0)));
                i++;
            }
            return out;
        }

        private List<Long> boundaries(JsonNode root) {
            List<Long> out = new ArrayList<>();
            for (JsonNode b : array(root, "boundaries")) {
                if (!b.canConvertToLong()) {
                    throw bad("boundaries must be whole step numbers");
                }
                out.add(b.asLong());
            }
            for (int i = 1; i < out.size(); i++) {
                if (out.get(i) < out.get(i - 1)) {
                    throw bad("boundaries must not decrease (" + out + ")");
                }
            }
            return out;
        }

        private List<CurvePoint> curves(JsonNode root) {
            List<CurvePoint> out = new ArrayList<>();
            int i = 0;
            for (JsonNode p : array(root, "curves")) {
                if (!p.path("step").canConvertToLong() || !p.path("task").isTextual()
                        || !p.path("perplexity").isNumber()) {
                    throw bad("curves[" + i + "] needs step, task and perplexity");
                }
                out.add(new CurvePoint(p.path("step").asLong(), p.path("stage").asInt(-1),
                        p.path("task").asText(), p.path("perplexity").asDouble(),
                        p.path("mean_nll").asDouble(Double.NaN),
                        p.path("token_accuracy").asDouble(Double.NaN)));
                i++;
            }
            return out;
        }

        private List<DriftMap.Entry> drift(JsonNode root) {
            List<DriftMap.Entry> out = new ArrayList<>();
            JsonNode d = root.path("drift");
            if (!d.isObject()) {
                return out;
            }
            int i = 0;
            for (JsonNode r : array(d, "rows")) {
                if (!r.path("tensor").isTextual() || !r.path("value").isNumber()) {
                    throw bad("drift.rows[" + i + "] needs stage, tensor, group and value");
                }
                String tensor = r.path("tensor").asText();
                out.add(new DriftMap.Entry(r.path("stage").asInt(0), tensor,
                        text(r, "group", tensor), r.path("value").asDouble()));
                i++;
            }
            return out;
        }
    }
}
