package dev.retain.eval.results;

import dev.retain.core.util.Json;
import dev.retain.eval.tasks.TaskResult;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The {@code eval_tasks} object of results.json (docs/results-schema.md): the task probes'
 * settings and, per task, its rows of metrics.
 *
 * <pre>{@code
 * "eval_tasks": {"num_fewshot": 0, "fewshot_seed": 1234, "limit": 0,
 *   "tasks": [{"name": "hellaswag", "format": "hellaswag", "kind": "multiple_choice",
 *              "file": "data/hellaswag_val.jsonl", "examples": 200,
 *              "rows": [{"acc": 0.29, "acc_stderr": 0.032, "acc_norm": 0.31,
 *                        "acc_norm_stderr": 0.033}, ...]}]}
 * }</pre>
 */
final class TaskScoresCodec {

    static final String EVAL_TASKS = "eval_tasks";
    static final String NUM_FEWSHOT = "num_fewshot";
    static final String FEWSHOT_SEED = "fewshot_seed";
    static final String LIMIT = "limit";
    static final String TASKS = "tasks";
    static final String NAME = "name";
    static final String FORMAT = "format";
    static final String KIND = "kind";
    static final String FILE = "file";
    static final String EXAMPLES = "examples";
    static final String ROWS = "rows";

    private TaskScoresCodec() {}

    /**
     * Writes the settings and each task without rows.
     *
     * @param root the results document
     * @param s the scores (their rows are written too)
     */
    static void write(ObjectNode root, TaskScores s) {
        ObjectNode o = root.putObject(EVAL_TASKS);
        o.put(NUM_FEWSHOT, s.numFewshot());
        o.put(FEWSHOT_SEED, s.fewshotSeed());
        o.put(LIMIT, s.limit());
        ArrayNode tasks = o.putArray(TASKS);
        for (TaskScores.Probe p : s.tasks()) {
            ObjectNode t = tasks.addObject();
            t.put(NAME, p.name());
            t.put(FORMAT, p.format());
            t.put(KIND, p.kind());
            t.put(FILE, p.file());
            t.put(EXAMPLES, p.examples());
            ArrayNode rows = t.putArray(ROWS);
            for (Map<String, Double> r : p.rows()) {
                row(rows.addObject(), r);
            }
        }
    }

    /**
     * Appends one row per task: the next evaluation ({@code eval_tasks} is started, its tasks
     * without rows, by the first).
     *
     * @param root the results document
     * @param one the evaluation, each task's row 0
     * @return the stage the row follows, null for the base model's row (the first)
     */
    static Integer appendRow(ObjectNode root, TaskScores one) {
        if (root.get(EVAL_TASKS) == null) {
            write(root, new TaskScores(one.numFewshot(), one.fewshotSeed(), one.limit(),
                    one.tasks().stream().map(p -> new TaskScores.Probe(p.name(), p.format(),
                            p.kind(), p.file(), p.examples(), List.of())).toList()));
        }
        int row = root.path(EVAL_TASKS).path(TASKS).path(0).path(ROWS).size();
        ArrayNode tasks = (ArrayNode) root.path(EVAL_TASKS).path(TASKS);
        for (int i = 0; i < one.tasks().size(); i++) {
            row(((ArrayNode) tasks.get(i).get(ROWS)).addObject(), one.tasks().get(i).rows()
                    .get(0));
        }
        return row == 0 ? null : row - 1;
    }

    /**
     * A metrics.jsonl evaluation line of one task: {@code {"type": "eval", "step", "stage",
     * "task", "kind", "examples", <metric>, <metric>_stderr, ...}}.
     *
     * @param step the global step
     * @param stage the stage just finished, null for the base model
     * @param p the task's scores (its row 0)
     * @return the line
     */
    static ObjectNode line(long step, Integer stage, TaskScores.Probe p) {
        ObjectNode n = MetricsLog.evalHeader(step, stage);
        n.put("task", p.name());
        n.put(KIND, p.kind());
        n.put(EXAMPLES, p.examples());
        row(n, p.rows().get(0));
        return n;
    }

    private static void row(ObjectNode n, Map<String, Double> r) {
        for (Map.Entry<String, Double> e : r.entrySet()) {
            if (e.getValue() == null || !Double.isFinite(e.getValue())) {
                n.putNull(e.getKey());
            } else {
                n.put(e.getKey(), e.getValue());
            }
        }
    }

    /**
     * Reads {@code eval_tasks}, checking it.
     *
     * @param root the results document
     * @param maxRows the most rows a task may have (stages + 1)
     * @param bad makes the error for a problem (the file is named by the caller)
     * @return the scores, or null when there is no {@code eval_tasks}
     */
    static TaskScores read(JsonNode root, int maxRows, Function<String, RuntimeException> bad) {
        JsonNode o = root.get(EVAL_TASKS);
        if (o == null || o.isNull()) {
            return null;
        }
        if (!o.isObject() || !o.path(TASKS).isArray()) {
            throw bad.apply(EVAL_TASKS + " must be an object with a \"tasks\" list");
        }
        List<TaskScores.Probe> probes = new ArrayList<>();
        for (JsonNode t : o.get(TASKS)) {
            String name = t.path(NAME).asText(null);
            if (name == null || !t.path(ROWS).isArray()) {
                throw bad.apply(EVAL_TASKS + ".tasks[" + probes.size() + "] must have a name and"
                        + " rows");
            }
            if (t.get(ROWS).size() > maxRows) {
                throw bad.apply(EVAL_TASKS + " task " + name + " has " + t.get(ROWS).size()
                        + " rows, more than the base model's and one per stage (" + maxRows + ")");
            }
            List<Map<String, Double>> rows = new ArrayList<>();
            for (JsonNode r : t.get(ROWS)) {
                rows.add(readRow(r, name, rows.size(), bad));
            }
            probes.add(new TaskScores.Probe(name, t.path(FORMAT).asText(""),
                    t.path(KIND).asText(""), t.path(FILE).asText(""), t.path(EXAMPLES).asInt(0),
                    rows));
        }
        return new TaskScores(o.path(NUM_FEWSHOT).asInt(0), o.path(FEWSHOT_SEED).asLong(1234),
                o.path(LIMIT).asInt(0), probes);
    }

    private static Map<String, Double> readRow(JsonNode r, String task, int k,
            Function<String, RuntimeException> bad) {
        if (!r.isObject()) {
            throw bad.apply(EVAL_TASKS + " task " + task + " row " + k + " must be an object");
        }
        Map<String, Double> row = new LinkedHashMap<>();
        for (var it = r.fields(); it.hasNext(); ) {
            var e = it.next();
            JsonNode v = e.getValue();
            if (v.isNull()) {
                row.put(e.getKey(), null);
                continue;
            }
            double x = v.asDouble(Double.NaN);
            boolean ok = v.isNumber() && Double.isFinite(x) && x >= 0
                    && (!e.getKey().startsWith(TaskResult.ACC) || e.getKey().endsWith("_stderr")
                            || x <= 1)
                    && (!e.getKey().endsWith("perplexity") || x >= 1);
            if (!ok) {
                throw bad.apply(EVAL_TASKS + " task " + task + " row " + k + ": "
                        + e.getKey() + " " + Json.MAPPER.valueToTree(v) + " is not a valid"
                        + " score");
            }
            row.put(e.getKey(), x);
        }
        return row;
    }
}
