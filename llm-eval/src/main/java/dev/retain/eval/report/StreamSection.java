package dev.retain.eval.report;

import dev.retain.eval.results.RunResults;
import dev.retain.eval.results.TaskFree;

import java.util.ArrayList;
import java.util.List;

/**
 * A task-free run's part of its report: where it detected and consolidated against where each
 * source really began, and, with evaluation points ({@code --eval-every-tokens}), the stream's
 * score matrix (one row per point) with each source's forgetting over the points.
 */
final class StreamSection {

    private StreamSection() {}

    /**
     * @param res a run's results
     * @return per source, the step after which its last window was trained (the next source's
     *     start; for the last, never before the run's end)
     */
    static long[] seenAfter(RunResults res) {
        List<Long> starts = res.boundaries();
        long[] seen = new long[res.tasks().size()];
        for (int j = 0; j < seen.length; j++) {
            seen[j] = j + 1 < starts.size() ? starts.get(j + 1) : Long.MAX_VALUE;
        }
        return seen;
    }

    /**
     * Writes the section; nothing for a run that is not task-free.
     *
     * @param doc the document
     * @param res the run's results
     * @param label the run's name in the report
     */
    static void write(Doc doc, RunResults res, String label) {
        TaskFree tf = res.taskFree();
        if (tf == null) {
            return;
        }
        doc.heading(3, "Task-free: " + label, null);
        List<Long> starts = res.boundaries();
        doc.paragraph("The strategies were not told where one source ends; they consolidated by"
                + " the rule '" + tf.consolidate() + "'. Each detection (the plateau detector) and"
                + " consolidation, with the source being read then and how many steps after that"
                + " source's first step it came (the evaluator knows the sources; the trainer did"
                + " not).");
        List<List<String>> rows = new ArrayList<>();
        for (TaskFree.Consolidation c : tf.consolidations()) {
            int seg = c.segment();
            String task = seg >= 0 && seg < res.tasks().size() ? res.tasks().get(seg) : "?";
            String after = seg >= 0 && seg < starts.size()
                    ? Long.toString(c.step() - (starts.get(seg) + 1)) : "";
            rows.add(List.of(Long.toString(c.step()), Fmt.count(c.tokens()), c.trigger(),
                    c.consolidated() ? "yes" : "no", task, after));
        }
        doc.table(new Doc.Table("Detections and consolidations", List.of("after step",
                "new tokens", "trigger", "consolidated", "source being read",
                "steps after its start"), rows));
        if (tf.points().isEmpty()) {
            return;
        }
        List<String> header = new ArrayList<>(List.of("after step", "new tokens"));
        header.addAll(res.tasks());
        List<List<String>> prows = new ArrayList<>();
        for (TaskFree.Point p : tf.points()) {
            List<String> row = new ArrayList<>(List.of(Long.toString(p.step()),
                    Fmt.count(p.tokens())));
            for (double nll : p.meanNll()) {
                row.add(Fmt.ppl(Math.exp(nll)));
            }
            prows.add(row);
        }
        List<String> forgot = new ArrayList<>(List.of("forgetting (nats)", ""));
        for (double f : tf.forgetting(seenAfter(res))) {
            forgot.add(Double.isNaN(f) ? "" : Fmt.signed(f, 4));
        }
        prows.add(forgot);
        doc.table(new Doc.Table("Evaluation points: test perplexity of each source along the"
                + " stream; forgetting = final mean NLL minus the best at a point after the"
                + " source's last window", header, prows));
    }
}
