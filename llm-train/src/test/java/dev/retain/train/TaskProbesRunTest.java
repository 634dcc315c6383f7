package dev.retain.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.util.RepoPaths;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The task probes' rows of a run survive stops and resumes exactly. */
class TaskProbesRunTest {

    @TempDir Path tmp;

    @Test
    void aResumedRunHasTheTaskRowsOfAnUninterruptedOne() throws IOException {
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing",
                "legal");
        TrainConfig c = TrainerTest.config("naive", Map.of("eval-every", 0, "test-windows", 1,
                "eval-tasks", List.of(RepoPaths.resolve("datasets/tasks/choice.jsonl").toString(),
                        RepoPaths.resolve("datasets/tasks/rolling.txt").toString()),
                "task-limit", 8));
        RunSetup s = RunSetup.create(null, c, Fixtures.tiny(), Fixtures.tokenizer(), doms);
        Path full = tmp.resolve("full");
        try (ContinualTrainer t = ContinualTrainer.start(s, full, false)) {
            assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
        }
        Path cut = tmp.resolve("cut");
        // stopped in the first domain and right after its end, then resumed
        try (ContinualTrainer t = ContinualTrainer.start(s, cut, false,
                parts -> TrainerTest.stopAfter(parts, step -> step == 3 || step == 6))) {
            assertEquals(ContinualTrainer.Outcome.INTERRUPTED, t.run());
        }
        for (int i = 0; i < 4; i++) {
            try (ContinualTrainer t = ContinualTrainer.builder().optProgress(false)
                    .optStrategies(parts -> TrainerTest.stopAfter(parts, step -> step == 6))
                    .resume(cut)) {
                if (t.run() == ContinualTrainer.Outcome.COMPLETE) {
                    break;
                }
            }
        }
        JsonNode a = TrainerTest.results(full).get("eval_tasks");
        JsonNode b = TrainerTest.results(cut).get("eval_tasks");
        assertEquals(3, a.get("tasks").get(0).get("rows").size(), "base and two stages");
        assertEquals(a.toString(), b.toString(), "the same task rows as the uninterrupted run");
        assertTrue(a.get("tasks").get(1).get("rows").get(0).get("word_perplexity").asDouble()
                > a.get("tasks").get(1).get("rows").get(2).get("word_perplexity").asDouble(),
                "training on text lowered the rolling task's word perplexity");
    }
}
