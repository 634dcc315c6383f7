package dev.retain.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;
import dev.retain.eval.results.MetricsLog;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Task-free runs ({@code task-free}): one stream, the strategies not told where a domain ends. */
class StreamTrainerTest {

    @TempDir
    Path tmp;

    /**
     * 2 domains x 6 steps of 4 windows of 32 tokens: 768 new tokens per domain; without the
     * stage models, the drift map and the token detail, which a stream run makes as any run does.
     */
    private static TrainConfig config(String strategy, Map<String, Object> more) {
        Map<String, Object> m = new HashMap<>(Map.of("eval-every", 0, "test-windows", 2,
                "export-stages", "none", "drift", "off", "token-detail", 0));
        m.putAll(more);
        return TrainerTest.config(strategy, m);
    }

    private RunSetup setup(TrainConfig c, List<Path> doms) {
        return RunSetup.create(null, c, Fixtures.tiny(), Fixtures.tokenizer(), doms);
    }

    private List<Path> domains() throws IOException {
        return Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing", "legal");
    }

    private Path run(String name, TrainConfig c, List<Path> doms) throws IOException {
        Path dir = tmp.resolve(name);
        try (ContinualTrainer t = ContinualTrainer.start(setup(c, doms), dir, false)) {
            assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
        }
        return dir;
    }

    private static List<JsonNode> steps(Path run) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode l : MetricsLog.read(run)) {
            if (l.path("type").asText().equals("step")) {
                out.add(l);
            }
        }
        return out;
    }

    @Test
    void naiveStreamWithTheSameFlatScheduleLearnsExactlyWhatTheRunWithDomainsLearns()
            throws IOException {
        // Naive has no strategy to tell, and a constant rate without warm-up is one schedule
        // either way: the stream reads the same windows in the same order, so every score is the
        // same as the run with domains'; only the task-free record is added.
        List<Path> doms = domains();
        Map<String, Object> flat = Map.of("schedule", "constant", "warmup-steps", 0);
        Path domainsRun = run("domains", config("naive", flat), doms);
        Map<String, Object> tf = new HashMap<>(flat);
        tf.put("task-free", true);
        Path streamRun = run("stream", config("naive", tf), doms);
        JsonNode a = TrainerTest.results(domainsRun);
        JsonNode b = TrainerTest.results(streamRun);
        assertEquals(a.get("scores"), b.get("scores"));
        assertFalse(a.has("stream"));
        assertEquals("plateau", b.get("stream").get("consolidate").asText());
        // With the warm-up and cosine decay the stream has one schedule, the domains one each.
        Path cosine = run("cosine", config("naive", Map.of("task-free", true)), doms);
        List<JsonNode> s = steps(cosine);
        assertEquals(12, s.size());
        double peak = 3e-3;
        assertEquals(peak / 3, s.get(0).get("lr").asDouble(), 1e-12); // warm-up 2: step 1 of 3
        assertTrue(s.get(6).get("lr").asDouble() < s.get(5).get("lr").asDouble(),
                "no re-warming at the second domain: " + s.get(6));
    }

    @Test
    void ewcInAStreamConsolidatesEveryNTokensAndNeverAtTheBoundary() throws IOException {
        List<Path> doms = domains();
        // 640 tokens = 5 steps of 4 x 32: consolidations after steps 5 and 10, not after 6. The
        // penalty is measured before a step's update: 0 until the weights leave the anchor, so
        // from step 7 on (the step after the first consolidation starts at the anchor).
        Path dir = run("every", config("ewc", Map.of("task-free", true, "consolidate",
                "every:640", "export-stages", "all")), doms);
        List<JsonNode> s = steps(dir);
        for (int i = 0; i < 6; i++) {
            assertEquals(0.0, s.get(i).get("penalty").asDouble(), "step " + (i + 1));
        }
        assertTrue(s.get(6).get("penalty").asDouble() > 0, "step 7: " + s.get(6));
        List<Long> at = new ArrayList<>();
        for (JsonNode c : TrainerTest.results(dir).get("stream").get("consolidations")) {
            if (c.get("trigger").asText().equals("every")) {
                at.add(c.get("step").asLong());
                assertTrue(c.get("consolidated").asBoolean());
                assertEquals(c.get("step").asLong() * 128, c.get("tokens").asLong());
            }
        }
        assertEquals(List.of(5L, 10L), at);
        assertFalse(Files.exists(dir.resolve("ewc-stage-0.ndlist")),
                "no Fisher at a domain's end");
        // The same run with domains consolidates at the boundary (after step 6): no penalty
        // before step 8.
        Path domainsRun = run("domains", config("ewc", Map.of()), doms);
        assertEquals(0.0, steps(domainsRun).get(6).get("penalty").asDouble());
        assertTrue(steps(domainsRun).get(7).get("penalty").asDouble() > 0);
    }

    @Test
    void l2AndLwfInAStreamAnchorAndRefreshTheTeacherWhereTheyConsolidate() throws IOException {
        // L2's anchor and LwF's teacher are the model at the consolidation after step 5: before
        // it they have none (no term), from step 7 (the weights have moved) the term is there.
        List<Path> doms = domains();
        for (String strategy : List.of("l2", "lwf")) {
            Path dir = run(strategy, config(strategy, Map.of("task-free", true, "consolidate",
                    "every:640")), doms);
            List<JsonNode> s = steps(dir);
            for (int i = 0; i < 5; i++) {
                assertEquals(0.0, s.get(i).get("penalty").asDouble(), strategy + " step "
                        + (i + 1));
            }
            assertTrue(s.get(6).get("penalty").asDouble() > 0, strategy + " step 7: "
                    + s.get(6));
        }
    }

    @Test
    void replayInAStreamDrawsFromEveryWindowSeenFromTheSecondStep() throws IOException {
        List<Path> doms = domains();
        Path dir = run("replay", config("replay", Map.of("task-free", true)), doms);
        List<JsonNode> s = steps(dir);
        assertTrue(s.get(0).get("replay").isNull(), "nothing seen before the first step");
        assertTrue(s.get(1).get("replay").isNumber(), "the first step's windows: " + s.get(1));
        Path domainsRun = run("domains", config("replay", Map.of()), doms);
        assertTrue(steps(domainsRun).get(1).get("replay").isNull(),
                "with domains, only earlier domains are replayed");
    }

    @Test
    void aStreamRunStoppedOrKilledBetweenTwoDetectionsResumesExactly() throws IOException {
        // A detector quick enough to fire on 20 steps, and a strategy with state of every kind:
        // EWC's online Fisher (over the recent and hard windows), the replay reservoir, the
        // detector's window.
        List<Path> doms = domains();
        Map<String, Object> m = new HashMap<>(Map.of("task-free", true, "max-steps-per-domain",
                10, "plateau-window", 3, "plateau-peak", 1.0, "plateau-stable", 0.05,
                "recent-windows", 4, "hard-windows", 2, "save-every", 100));
        TrainConfig c = config("ewc+replay", m);
        Path full = run("full", c, doms);
        List<Long> detections = new ArrayList<>();
        for (JsonNode d : TrainerTest.results(full).get("stream").get("consolidations")) {
            detections.add(d.get("step").asLong());
        }
        assertTrue(detections.size() >= 2, "detections " + detections);
        long stopAt = detections.get(0) + 1;
        assertTrue(stopAt < detections.get(1), "detections " + detections);
        Path cut = tmp.resolve("cut");
        try (ContinualTrainer t = ContinualTrainer.start(setup(c, doms), cut, false,
                parts -> TrainerTest.stopAfter(parts, step -> step == stopAt))) {
            assertEquals(ContinualTrainer.Outcome.INTERRUPTED, t.run());
        }
        try (ContinualTrainer t = ContinualTrainer.builder().optProgress(false).resume(cut)) {
            assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
        }
        assertSameRun(full, cut);
        // Killed: the process dies between the same two detections, after a periodic checkpoint
        // and without saving at the kill; the resume starts from that checkpoint.
        long crashAt = stopAt + 1;
        assertTrue(crashAt < detections.get(1), "detections " + detections);
        m.put("save-every", (int) stopAt);
        TrainConfig saving = config("ewc+replay", m);
        Path killed = tmp.resolve("killed");
        try (ContinualTrainer t = ContinualTrainer.start(setup(saving, doms), killed, false,
                parts -> crashAfter(parts, crashAt))) {
            assertThrows(IllegalStateException.class, t::run);
        }
        try (ContinualTrainer t = ContinualTrainer.builder().optProgress(false).resume(killed)) {
            assertEquals(stopAt, t.context().globalStep(), "resumed at the periodic checkpoint");
            assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
        }
        assertSameRun(full, killed);
    }

    /** The strategy's plugins and one that ends the process's run (as a kill would) at a step. */
    private static List<dev.retain.train.plugin.Plugin> crashAfter(
            dev.retain.train.lm.Strategies.Parts parts, long step) {
        return TrainerTest.onStep(parts, ctx -> {
            if (ctx.globalStep() == step) {
                throw new IllegalStateException("killed at step " + step);
            }
        });
    }

    /** The same detections, scores, and every step's loss and penalty. */
    private static void assertSameRun(Path full, Path other) throws IOException {
        JsonNode a = TrainerTest.results(full);
        JsonNode b = TrainerTest.results(other);
        assertEquals(a.get("stream").get("consolidations"), b.get("stream").get("consolidations"));
        assertEquals(a.get("scores"), b.get("scores"));
        List<JsonNode> sa = steps(full);
        List<JsonNode> sb = steps(other);
        assertEquals(sa.size(), sb.size());
        for (int i = 0; i < sa.size(); i++) {
            assertEquals(sa.get(i).get("loss"), sb.get(i).get("loss"), "step " + (i + 1));
            assertEquals(sa.get(i).get("penalty"), sb.get(i).get("penalty"), "step " + (i + 1));
        }
    }

    @Test
    void evaluationPointsMakeTheStreamsScoreMatrix() throws IOException {
        List<Path> doms = domains();
        // every 512 tokens = 4 steps: points after steps 4, 8 and 12
        Path dir = run("points", config("naive", Map.of("task-free", true,
                "eval-every-tokens", 512L)), doms);
        JsonNode points = TrainerTest.results(dir).get("stream").get("points");
        assertEquals(3, points.size());
        assertEquals(List.of(4L, 8L, 12L), List.of(points.get(0).get("step").asLong(),
                points.get(1).get("step").asLong(), points.get(2).get("step").asLong()));
        assertEquals(2, points.get(0).get("perplexity").size());
        // The last point is after the last step: the same model as the last stage row.
        JsonNode last = TrainerTest.results(dir).get("scores").get("perplexity").get("rows")
                .get(2);
        assertEquals(last, points.get(2).get("perplexity"));
    }

    @Test
    void maxStepsCutsTheStream() throws IOException {
        List<Path> doms = domains();
        Path dir = run("cut", config("naive", Map.of("task-free", true, "max-steps", 8)), doms);
        assertEquals(8, steps(dir).size());
        assertEquals(3, TrainerTest.results(dir).get("scores").get("perplexity").get("rows")
                .size(), "base and both sources scored");
    }

    @Test
    void jointAndAnUnknownRuleAreRefused() {
        UserError e = assertThrows(UserError.class, () -> config("joint", Map.of("task-free",
                true)));
        assertTrue(e.getMessage().contains("joint"), e.getMessage());
        e = assertThrows(UserError.class, () -> config("ewc", Map.of("task-free", true,
                "consolidate", "every:")));
        assertTrue(e.getMessage().contains("use plateau, every:N"), e.getMessage());
    }
}
