package dev.retain.eval.results;

import static dev.retain.eval.results.ResultsKeys.DOMAINS;
import static dev.retain.eval.results.ResultsKeys.HELD_OUT;
import static dev.retain.eval.results.ResultsKeys.HIGHER_IS_BETTER;
import static dev.retain.eval.results.ResultsKeys.ROWS;
import static dev.retain.eval.results.ResultsKeys.SCORES;

import dev.retain.eval.EvalResult;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * The score rows of a language-model run's results.json: the matrix ({@code scores}: a row of
 * perplexity, mean NLL and token accuracy per domain for the base model, then one per stage),
 * the held-out domains' rows beside it ({@code held_out}) and the task probes' rows ({@code
 * eval_tasks}, {@link TaskScoresCodec}). Every score appended is also logged as an evaluation
 * line at the step the {@link MetricsTap} holds.
 */
final class ScoreRows {

    /** The metrics of a score row, in the file's order. */
    private static final List<String> ROW_METRICS = List.of(ResultsCodec.PERPLEXITY,
            ResultsCodec.MEAN_NLL, ResultsCodec.TOKEN_ACCURACY);

    private final ObjectNode root;
    private final MetricsTap metrics;

    /**
     * @param root the results document (its {@code scores} object in place)
     * @param metrics where the scores are logged
     */
    ScoreRows(ObjectNode root, MetricsTap metrics) {
        this.root = root;
        this.metrics = metrics;
    }

    /**
     * Puts the empty matrix into a new document: {@code scores}, each metric with its direction
     * and no rows yet.
     *
     * @param root the document
     */
    static void begin(ObjectNode root) {
        ObjectNode scores = root.putObject(SCORES);
        for (String m : ROW_METRICS) {
            ObjectNode s = scores.putObject(m);
            s.put(HIGHER_IS_BETTER, m.equals(ResultsCodec.TOKEN_ACCURACY));
            s.putArray(ROWS);
        }
    }

    /** @param results one result per domain, in task order: the matrix's next row */
    void add(List<EvalResult> results) {
        append((ObjectNode) root.get(SCORES), results, false);
    }

    /**
     * @param results one result per held-out domain: {@code held_out}'s next row (the object
     *     made with the first); nothing when there are none
     */
    void addHeldOut(List<EvalResult> results) {
        if (results.isEmpty()) {
            return;
        }
        ObjectNode h = (ObjectNode) root.get(HELD_OUT);
        if (h == null) {
            h = root.putObject(HELD_OUT);
            ArrayNode d = h.putArray(DOMAINS);
            results.forEach(r -> d.add(r.domain()));
            for (String m : ROW_METRICS) {
                h.putObject(m).putArray(ROWS);
            }
        }
        append(h, results, true);
    }

    /** @param tasks one evaluation's task scores (a row per task), or null: nothing without */
    void addTasks(TaskScores tasks) {
        if (tasks != null && !tasks.tasks().isEmpty()) {
            Integer stage = TaskScoresCodec.appendRow(root, tasks);
            tasks.tasks().forEach(p -> metrics.write(TaskScoresCodec.line(metrics.step(), stage,
                    p)));
        }
    }

    /** @return the matrix's rows so far (base row included) */
    int rows() {
        return root.get(SCORES).get(ResultsCodec.PERPLEXITY).get(ROWS).size();
    }

    /**
     * Appends a row to the perplexity, mean-NLL and token-accuracy rows of a score object (the
     * matrix, or the held-out domains'), each result also logged as a test evaluation.
     */
    private void append(ObjectNode scores, List<EvalResult> results, boolean heldOut) {
        int row = scores.get(ResultsCodec.PERPLEXITY).get(ROWS).size();
        ArrayNode p = ((ArrayNode) scores.get(ResultsCodec.PERPLEXITY).get(ROWS)).addArray();
        ArrayNode n = ((ArrayNode) scores.get(ResultsCodec.MEAN_NLL).get(ROWS)).addArray();
        ArrayNode a = ((ArrayNode) scores.get(ResultsCodec.TOKEN_ACCURACY).get(ROWS)).addArray();
        for (EvalResult r : results) {
            p.add(r.perplexity());
            n.add(r.meanNll());
            a.add(r.tokenAccuracy());
            ObjectNode line = MetricsLog.eval(metrics.step(), row == 0 ? null : row - 1, "test",
                    r);
            if (heldOut) {
                line.put(HELD_OUT, true);
            }
            metrics.write(line);
        }
    }
}
