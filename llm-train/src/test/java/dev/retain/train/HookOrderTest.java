package dev.retain.train;

import dev.retain.train.plugin.StepResult;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.util.Json;

import dev.retain.train.lifecycle.StageExport;
import dev.retain.train.lm.ReplayPlugin;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;

import ai.djl.ndarray.NDManager;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The plugin contract: which hooks fire, in which order, what the run looks like when they fire,
 * and that a plugin's requests (stop, save, evaluate) are carried out by the loop.
 */
class HookOrderTest {

    @TempDir Path tmp;

    /** Writes down every hook call with what it saw. */
    static class Recorder implements Plugin {
        final List<String> events = new ArrayList<>();

        @Override
        public String name() {
            return "recorder";
        }

        @Override
        public void beforeDomain(TrainContext ctx) {
            events.add("beforeDomain " + ctx.stage() + " step " + ctx.globalStep());
        }

        @Override
        public int replayRows(TrainContext ctx, int micro) {
            // as the replay plugin: a quarter of the step's 2 x 4 windows, one per micro-batch
            return ReplayPlugin.rowsPerStep(0.25, ctx.batchSize() * ctx.gradAccum())
                    / ctx.gradAccum();
        }

        @Override
        public int replayWindows(TrainContext ctx, int rows, long[] dst, int offset) {
            events.add("replayWindows " + ctx.stage() + " rows " + rows);
            return 0;
        }

        @Override
        public double afterBackward(TrainContext ctx, NDManager scope) {
            events.add("afterBackward " + ctx.stage() + " step " + ctx.globalStep());
            return 0;
        }

        @Override
        public void afterStep(TrainContext ctx, StepResult step) {
            events.add("afterStep " + ctx.stage() + " step " + ctx.globalStep() + " new "
                    + step.newWindowStarts().length);
        }

        @Override
        public void afterDomain(TrainContext ctx) {
            String model = StageExport.fileName(ctx.stage(), ctx.domains().get(ctx.stage()));
            events.add("afterDomain " + ctx.stage() + " exported "
                    + Files.exists(ctx.runDir().resolve(model)) + " rows "
                    + ctx.results().rows());
        }

        @Override
        public void consolidate(TrainContext ctx, List<long[]> windows) {
            events.add("consolidate " + ctx.stage() + " step " + ctx.globalStep() + " windows "
                    + windows.size());
        }

        @Override
        public void saveState(Path dir) {
            events.add("saveState " + dir.getFileName().toString().replace(".partial", ""));
        }
    }

    private RunSetup setup(TrainConfig c) throws IOException {
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing",
                "legal");
        return RunSetup.create(null, c, Fixtures.tiny(), Fixtures.tokenizer(), doms);
    }

    @Test
    void hooksFireInTheDocumentedOrder() throws IOException {
        // the recorder asks for replay's one row of four (replayRows) and supplies none
        TrainConfig c = TrainerTest.config("replay", Map.of("max-steps-per-domain", 2,
                "grad-accum", 2, "save-every", 100, "eval-every", 0, "test-windows", 1));
        Recorder rec = new Recorder();
        Path run = tmp.resolve("run");
        try (ContinualTrainer t = ContinualTrainer.start(setup(c), run, false,
                parts -> List.of(rec))) {
            assertEquals(List.of(rec), t.plugins());
            assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
        }
        List<String> want = new ArrayList<>();
        long step = 0;
        for (int stage = 0; stage < 2; stage++) {
            want.add("beforeDomain " + stage + " step " + step);
            for (int s = 0; s < 2; s++) {
                want.add("replayWindows " + stage + " rows 1");
                want.add("replayWindows " + stage + " rows 1");
                want.add("afterBackward " + stage + " step " + step);
                step++;
                // two micro-batches of four new windows each (nothing was replayed)
                want.add("afterStep " + stage + " step " + step + " new 8");
            }
            // before the stage model is exported and before its row of the matrix is added
            want.add("afterDomain " + stage + " exported false rows " + (stage + 1));
            want.add(String.format("saveState step-%09d-s%d", step, stage + 1));
        }
        assertEquals(want, rec.events);
    }

    @Test
    void aTaskFreeStrategyIsToldTheStreamsStartOnceAndConsolidatesWhereTheRuleSays()
            throws IOException {
        // 2 domains x 2 steps of 2 x 4 windows of 32 tokens (256 new tokens a step); every:768
        // consolidates after step 3, inside the second domain, over the 24 windows seen (the
        // recent ones; the hard ones are among them). No afterDomain, and no beforeDomain at the
        // second domain's start.
        TrainConfig c = TrainerTest.config("replay", Map.of("max-steps-per-domain", 2,
                "grad-accum", 2, "save-every", 100, "eval-every", 0, "test-windows", 1,
                "task-free", true, "consolidate", "every:768"));
        Recorder rec = new Recorder();
        try (ContinualTrainer t = ContinualTrainer.start(setup(c), tmp.resolve("run"), false,
                parts -> List.of(rec))) {
            assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
        }
        List<String> want = new ArrayList<>();
        want.add("beforeDomain 0 step 0");
        long step = 0;
        for (int stage = 0; stage < 2; stage++) {
            for (int s = 0; s < 2; s++) {
                want.add("replayWindows " + stage + " rows 1");
                want.add("replayWindows " + stage + " rows 1");
                want.add("afterBackward " + stage + " step " + step);
                step++;
                want.add("afterStep " + stage + " step " + step + " new 8");
                if (step == 3) {
                    want.add("consolidate 1 step 3 windows 24");
                }
            }
            want.add(String.format("saveState step-%09d-s%d", step, stage + 1));
        }
        assertEquals(want, rec.events);
    }

    @Test
    void pluginRequestsAreCarriedOut() throws IOException {
        TrainConfig c = TrainerTest.config("naive", Map.of("max-steps-per-domain", 4,
                "save-every", 100, "eval-every", 0, "test-windows", 1));
        List<String> saved = new ArrayList<>();
        Plugin asker = new Plugin() {
            @Override
            public String name() {
                return "asker";
            }

            @Override
            public void saveState(Path dir) {
                saved.add(dir.getFileName().toString());
            }

            @Override
            public void afterStep(TrainContext ctx, StepResult step) {
                if (ctx.globalStep() == 1) {
                    ctx.control().requestEvaluate();
                    ctx.control().requestSave();
                }
                if (ctx.globalStep() == 3) {
                    ctx.control().requestStop();
                }
            }
        };
        Path run = tmp.resolve("run");
        try (ContinualTrainer t = ContinualTrainer.start(setup(c), run, false,
                parts -> List.of(asker))) {
            assertEquals(ContinualTrainer.Outcome.INTERRUPTED, t.run());
            assertEquals(3, t.context().globalStep());
        }
        JsonNode ptr = Json.MAPPER.readTree(run.resolve("checkpoint.json").toFile());
        assertEquals(3, ptr.get("global_step").asInt(), "the stop saved a checkpoint");
        JsonNode curves = TrainerTest.results(run).get("curves");
        assertEquals(2, curves.size(), "one valid evaluation of both domains");
        for (JsonNode p : curves) {
            assertEquals(1, p.get("step").asInt());
        }
        assertEquals(List.of("step-000000001-s0.partial", "step-000000003-s0.partial"), saved);
        // the save at step 1 was replaced by the stop's checkpoint at step 3
        try (var dirs = Files.list(run.resolve("checkpoints"))) {
            List<String> names = dirs.map(d -> d.getFileName().toString()).toList();
            assertEquals(List.of("step-000000003-s0"), names);
        }
        assertTrue(Files.exists(run.resolve("results.json")));
    }
}
