package dev.retain.eval.report;

import dev.retain.eval.results.TaskScores;
import dev.retain.eval.tasks.TaskResult;

import java.util.ArrayList;
import java.util.List;

/**
 * The task probes in a report ({@code retain eval --tasks}, a run's {@code --eval-tasks}): the
 * general ability measured as lm-evaluation-harness measures it. A single model's tasks are one
 * table of every metric with its standard error; a run's are its headline metric per task and
 * stage, and the comparison's "task accuracy vs base" column.
 */
final class TaskSection {

    private TaskSection() {}

    /** One model: a row per task, every metric with its standard error. */
    static void singleModel(Doc doc, TaskScores s) {
        List<List<String>> rows = new ArrayList<>();
        for (TaskScores.Probe p : s.tasks()) {
            List<String> row = new ArrayList<>(List.of(p.name(), p.format(), p.kind(),
                    Fmt.count(p.examples())));
            for (String m : List.of(TaskResult.ACC, TaskResult.ACC_NORM, TaskResult.PERPLEXITY,
                    TaskResult.WORD_PERPLEXITY, TaskResult.BITS_PER_BYTE)) {
                row.add(cell(p, 0, m));
            }
            rows.add(row);
        }
        doc.table(new Doc.Table("Task probes (" + shots(s) + ")", List.of("task", "format",
                "kind", "examples", "acc", "acc_norm", "perplexity", "word perplexity",
                "bits per byte"), rows));
        definitions(doc);
    }

    /** A run: the headline metric of every task after every stage, and the last against base. */
    static void run(Doc doc, TaskScores s, List<String> rowLabels) {
        if (s == null || s.rowCount() == 0) {
            return;
        }
        List<String> header = new ArrayList<>(List.of("after"));
        for (TaskScores.Probe p : s.tasks()) {
            header.add(p.name() + " " + p.headline().replace('_', ' '));
        }
        List<List<String>> rows = new ArrayList<>();
        for (int k = 0; k < s.rowCount(); k++) {
            List<String> row = new ArrayList<>(List.of(k < rowLabels.size() ? rowLabels.get(k)
                    : "after stage " + k));
            for (TaskScores.Probe p : s.tasks()) {
                row.add(cell(p, k, p.headline()));
            }
            rows.add(row);
        }
        int last = s.rowCount() - 1;
        List<String> vs = new ArrayList<>(List.of("last vs base"));
        for (TaskScores.Probe p : s.tasks()) {
            Double a = p.value(last, p.headline());
            Double b = p.value(0, p.headline());
            vs.add(a == null || b == null ? Fmt.NA : p.headline().equals(TaskResult.ACC)
                    ? Fmt.signed(a - b, 4) : ratio(a / b));
        }
        rows.add(vs);
        doc.table(new Doc.Table("Task probes (" + shots(s) + "): acc, or word perplexity for"
                + " rolling tasks", header, rows));
    }

    /**
     * The comparison's "task accuracy vs base" cell: the mean over the tasks that have an
     * accuracy of (accuracy after the last stage - the base model's), in points of accuracy.
     *
     * @param s a run's task scores, or null
     * @return the cell
     */
    static String accuracyVsBase(TaskScores s) {
        if (s == null || s.rowCount() < 2) {
            return Fmt.NA;
        }
        double sum = 0;
        int n = 0;
        for (TaskScores.Probe p : s.tasks()) {
            Double a = p.value(s.rowCount() - 1, TaskResult.ACC);
            Double b = p.value(0, TaskResult.ACC);
            if (a != null && b != null) {
                sum += a - b;
                n++;
            }
        }
        return n == 0 ? Fmt.NA : Fmt.signed(sum / n, 4);
    }

    private static String cell(TaskScores.Probe p, int row, String metric) {
        Double v = p.value(row, metric);
        if (v == null) {
            return "";
        }
        Double se = p.stderr(row, metric);
        boolean ppl = metric.endsWith("perplexity");
        String value = ppl ? ppl(v) : Fmt.fixed(v, 4);
        return se == null ? value : value + " \u00b1 " + (ppl ? ppl(se) : Fmt.fixed(se, 4));
    }

    /** A perplexity; in scientific notation from 1e7 on (a weak model's word perplexity). */
    private static String ppl(double v) {
        return Math.abs(v) < 1e7 ? Fmt.ppl(v) : Fmt.sci(v);
    }

    /** A ratio; in scientific notation where two decimals would not show it. */
    private static String ratio(double v) {
        return v == 0 || (Math.abs(v) >= 0.01 && Math.abs(v) < 1e4) ? Fmt.ratio(v)
                : Fmt.sci(v) + "x";
    }

    private static String shots(TaskScores s) {
        return s.numFewshot() + "-shot" + (s.numFewshot() > 0 ? ", seed " + s.fewshotSeed() : "")
                + (s.limit() > 0 ? ", first " + s.limit() + " examples" : "");
    }

    private static void definitions(Doc doc) {
        doc.paragraph("Scored by lm-evaluation-harness's definitions (docs/TASKS.md): acc = share"
                + " of examples whose highest-log-likelihood choice is the right one (for"
                + " loglikelihood tasks: whose continuation is the greedy one); acc_norm divides"
                + " each choice's log-likelihood by its length in characters; perplexity ="
                + " exp(-mean ll); word perplexity = exp(-total ll / words); \u00b1 is the"
                + " standard error (sample standard deviation / sqrt(n); for perplexity the"
                + " harness's bootstrap).");
    }
}
