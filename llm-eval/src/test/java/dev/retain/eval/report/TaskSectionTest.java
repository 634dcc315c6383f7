package dev.retain.eval.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.retain.eval.results.TaskScores;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A run's task table: the headline metric per stage, the last against the base, readable. */
class TaskSectionTest {

    private static Map<String, Double> row(Object... kv) {
        Map<String, Double> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], (Double) kv[i + 1]);
        }
        return m;
    }

    @Test
    void aRunsTableShowsEachStageAndTheLastAgainstTheBase() {
        TaskScores s = new TaskScores(0, 1234, 0, List.of(
                new TaskScores.Probe("choice", "multiple_choice", "multiple_choice", "c.jsonl",
                        40, List.of(row("acc", 0.15, "acc_stderr", 0.0572),
                                row("acc", 0.20, "acc_stderr", 0.0641))),
                new TaskScores.Probe("rolling", "rolling", "loglikelihood_rolling", "r.txt", 4,
                        List.of(row("word_perplexity", 1.3995e17),
                                row("word_perplexity", 2.2375e13))),
                new TaskScores.Probe("wiki", "rolling", "loglikelihood_rolling", "w.txt", 4,
                        List.of(row("word_perplexity", 80.0), row("word_perplexity", 100.0)))));
        Doc doc = new Doc();
        TaskSection.run(doc, s, List.of("base model", "after legal"));
        Doc.Table t = (Doc.Table) doc.blocks().get(0);
        assertEquals(List.of("after", "choice acc", "rolling word perplexity",
                "wiki word perplexity"), t.header());
        assertEquals(List.of("base model", "0.1500 \u00b1 0.0572", "1.40e+17", "80.00"),
                t.rows().get(0));
        // acc: the difference; perplexity: the ratio, in scientific notation where two decimals
        // would round it to 0.00x (2.2375e13 / 1.3995e17 = 1.599e-4)
        assertEquals(List.of("last vs base", "+0.0500", "1.60e-04x", "1.25x"), t.rows().get(2));
        assertEquals("+0.0500", TaskSection.accuracyVsBase(s));
    }
}
