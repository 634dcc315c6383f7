package dev.retain.cli;

import dev.retain.core.util.Json;
import dev.retain.eval.results.TaskScores;
import dev.retain.eval.tasks.TaskResult;
import dev.retain.eval.tasks.TaskSuite;
import dev.retain.train.config.Key;
import dev.retain.train.config.Settings;
import dev.retain.train.lifecycle.TaskProbes;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The task-probe options of {@code retain eval} ({@code --tasks} and how to score them), and
 * their table and JSON.
 */
final class TaskOptions {

    private TaskOptions() {}

    /** The task files of {@code retain eval}. */
    static final Key<List<String>> TASKS = Key.list("tasks", "FILE...", "task files scored as"
            + " lm-evaluation-harness scores them: JSONL of {context, choices, gold} (multiple"
            + " choice), {context, continuation} (loglikelihood) or a preset's layout"
            + " (--task-format), or text for rolling perplexity; see docs/TASKS.md");
    /** {@code retain eval}'s keys: the task files, then how they are read and scored. */
    static final List<Key<?>> EVAL = concat(List.of(TASKS), TaskProbes.SCORING);

    private static List<Key<?>> concat(List<Key<?>> a, List<Key<?>> b) {
        List<Key<?>> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    /**
     * Reads the task files named by a key, with the scoring options.
     *
     * @param v the command's values
     * @param files the key naming the files
     * @param progress whether scoring shows a progress line
     * @return the suite, or null when no file is given
     */
    static TaskSuite suite(Settings v, Key<List<String>> files, boolean progress) {
        return TaskProbes.suite(v, files, progress);
    }

    private static final List<String> COLUMNS = List.of(TaskResult.ACC, TaskResult.ACC_NORM,
            TaskResult.PERPLEXITY, TaskResult.WORD_PERPLEXITY, TaskResult.BITS_PER_BYTE);

    /**
     * Prints one line per task: its metrics with their standard errors, and its speed.
     *
     * @param out where to
     * @param results the results
     */
    static void printTable(PrintStream out, List<TaskResult> results) {
        int w = Math.max(4, results.stream().mapToInt(r -> r.name().length()).max().orElse(4));
        out.printf(Locale.ROOT, "%-" + w + "s %-22s %8s %18s %18s %12s %12s %10s %9s %8s%n",
                "task", "kind", "examples", "acc", "acc_norm", "perplexity", "word_ppl",
                "bits/byte", "tokens/s", "seconds");
        for (TaskResult r : results) {
            List<String> cells = new ArrayList<>();
            for (String m : COLUMNS) {
                Double v = r.metrics().get(m);
                Double se = r.stderr().get(m);
                cells.add(v == null ? "-" : m.startsWith(TaskResult.ACC) && se != null
                        ? String.format(Locale.ROOT, "%.4f \u00b1 %.4f", v, se)
                        : String.format(Locale.ROOT, m.equals(TaskResult.BITS_PER_BYTE) ? "%.4f"
                                : Math.abs(v) < 1e7 ? "%.3f" : "%.4e", v));
            }
            out.printf(Locale.ROOT, "%-" + w + "s %-22s %8d %18s %18s %12s %12s %10s %9.0f %8.1f%n",
                    r.name(), r.kind().label(), r.examples(), cells.get(0), cells.get(1),
                    cells.get(2), cells.get(3), cells.get(4), r.stats().tokensPerSecond(),
                    r.stats().seconds());
        }
    }

    /**
     * A run's task probes after each stage, from its results document ({@code eval_tasks}): acc
     * (or word perplexity for rolling tasks) of each task (columns) after each stage (rows);
     * nothing when the run has none.
     *
     * @param out where to
     * @param results the run's results.json as written
     */
    static void printStages(PrintStream out, com.fasterxml.jackson.databind.JsonNode results) {
        var tasks = results.path("eval_tasks").path("tasks");
        if (tasks.isEmpty()) {
            return;
        }
        out.println("task probes (acc; word perplexity for rolling tasks) after each stage:");
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-16s", "after"));
        tasks.forEach(t -> head.append(String.format(Locale.ROOT, " %14s", cut(t.get("name")
                .asText()))));
        out.println(head);
        var domains = results.path("tasks");
        for (int k = 0; k < tasks.get(0).path("rows").size(); k++) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-16s",
                    k == 0 ? "base" : cut(domains.path(k - 1).asText())));
            for (var t : tasks) {
                var row = t.path("rows").path(k);
                var acc = row.path(TaskResult.ACC);
                line.append(acc.isNumber() ? String.format(Locale.ROOT, " %14.4f",
                        acc.asDouble()) : String.format(Locale.ROOT, " %14.5g",
                        row.path(TaskResult.WORD_PERPLEXITY).asDouble(Double.NaN)));
            }
            out.println(line);
        }
    }

    private static String cut(String s) {
        return s.length() <= 14 ? s : s.substring(0, 13) + "~";
    }

    /**
     * The tasks as {@code retain eval --json}'s {@code tasks} list: per task its file, format,
     * kind, examples, every metric and {@code <metric>_stderr} (null where undefined), and what
     * scoring cost.
     *
     * @param suite the suite scored
     * @param results its results
     * @return the list
     */
    static ArrayNode json(TaskSuite suite, List<TaskResult> results) {
        ArrayNode arr = Json.MAPPER.createArrayNode();
        for (int i = 0; i < results.size(); i++) {
            TaskResult r = results.get(i);
            ObjectNode n = arr.addObject();
            n.put("name", r.name());
            n.put("file", suite.tasks().get(i).file().toString());
            n.put("format", r.format().label());
            n.put("kind", r.kind().label());
            n.put("examples", r.examples());
            n.put("num_fewshot", suite.options().numFewshot());
            n.put("fewshot_seed", suite.options().fewshotSeed());
            for (Map.Entry<String, Double> e : TaskScores.row(r).entrySet()) {
                if (e.getValue() == null || !Double.isFinite(e.getValue())) {
                    n.putNull(e.getKey());
                } else {
                    n.put(e.getKey(), e.getValue());
                }
            }
            n.put("requests", r.stats().requests());
            n.put("tokens", r.stats().tokens());
            n.put("padded_tokens", r.stats().padded());
            n.put("forward_passes", r.stats().batches());
            n.put("seconds", r.stats().seconds());
            n.put("tokens_per_second", r.stats().tokensPerSecond());
        }
        return arr;
    }

    /**
     * The scores as a report's or a results file's task scores (one row).
     *
     * @param suite the suite scored
     * @param results its results
     * @return the scores
     */
    static TaskScores scores(TaskSuite suite, List<TaskResult> results) {
        return TaskScores.of(results, suite.tasks().stream().map(t -> t.file().toString())
                .toList(), suite.options());
    }
}
