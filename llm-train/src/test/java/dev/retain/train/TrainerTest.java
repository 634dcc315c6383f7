package dev.retain.train;

import dev.retain.train.plugin.StepResult;
import dev.retain.train.lm.Strategies;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;
import dev.retain.core.util.Json;


import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The continual trainer end to end on small domains: results, resume, failures. */
class TrainerTest {

    @TempDir Path tmp;

    static TrainConfig config(String strategy, Map<String, Object> more) {
        Map<String, Object> m = new java.util.LinkedHashMap<>(Map.of(
                "strategy", strategy, "max-steps-per-domain", 6, "batch-size", 4, "seq-len", 32,
                "warmup-steps", 2, "fisher-samples", 4, "replay-tokens", 2048L, "save-every", 4,
                "eval-every", 3, "eval-windows", 2));
        m.put("learning-rate", 3e-3);
        m.put("device", "cpu");
        m.putAll(more);
        return TrainConfig.fromValues(m, "test");
    }

    RunSetup setup(TrainConfig c, List<Path> domains) {
        return RunSetup.create(null, c, Fixtures.tiny(), Fixtures.tokenizer(), domains);
    }

    static JsonNode results(Path run) throws IOException {
        return Json.MAPPER.readTree(run.resolve("results.json").toFile());
    }

    @Test
    void ewcPlusReplayRunWritesStagesAndResults() throws IOException {
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing",
                "legal");
        Path run = tmp.resolve("run");
        // replace: the replayed windows take their share of the batch (add has its own test)
        try (ContinualTrainer t = ContinualTrainer.start(setup(config("ewc+replay", Map.of(
                "replay-mode", "replace")), doms), run, false)) {
            assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
        }
        JsonNode r = results(run);
        assertEquals("complete", r.get("status").asText());
        assertEquals(3, r.get("scores").get("perplexity").get("rows").size(), "base + 2 stages");
        assertTrue(Files.exists(run.resolve("stage-0-computing.pt")));
        assertTrue(Files.exists(run.resolve("stage-1-legal.pt")));
        // The stage-end checkpoint stores the model and F/theta* once: hard links to the stage
        // model and the stage's EWC file, written just before with the same bytes.
        Path ckpt = run.resolve(Json.MAPPER.readTree(run.resolve("checkpoint.json").toFile())
                .get("dir").asText());
        assertTrue(Files.isSameFile(ckpt.resolve("model.pt"), run.resolve("stage-1-legal.pt")));
        assertTrue(Files.isSameFile(ckpt.resolve("ewc.ndlist"), run.resolve("ewc-stage-1.ndlist")));
        // The drift map's anchor and Fisher serve the next stage only: none after the last.
        assertFalse(Files.exists(ckpt.resolve("drift.ndlist")));
        assertFalse(Files.exists(run.resolve("checkpoints/drift.ndlist")));
        JsonNode s1 = r.get("stages").get(1);
        assertTrue(r.get("stages").get(0).get("drift_seconds").asDouble() > 0,
                "the drift map's Fisher is timed");
        assertEquals(0, s1.get("drift_seconds").asDouble(), "no Fisher after the last domain");
        // Stage 2 replays: round(4 * 0.25) = 1 of 4 windows per step, 6 steps of 32 tokens.
        assertEquals(6 * 1 * 32, s1.get("replay_tokens").asLong());
        assertEquals(6 * 3 * 32, s1.get("new_tokens").asLong());
        // compute: 6 steps of 4 windows of 32 tokens, forward and backward, plus EWC's Fisher
        // over 4 sequences of 32 (forward and backward)
        for (JsonNode s : r.get("stages")) {
            assertEquals(2 * 6 * 4 * 32 + 2 * 4 * 32, s.get("token_passes").asLong());
        }
        assertEquals(0, r.get("stages").get(0).get("replay_tokens").asLong());
        assertTrue(s1.get("fisher_seconds").asDouble() > 0);
        assertEquals(List.of(0L, 6L), List.of(r.get("boundaries").get(0).asLong(),
                r.get("boundaries").get(1).asLong()));
        // eval-every 3 over 12 steps: 4 points x 2 domains.
        assertEquals(8, r.get("curves").size());
        assertTrue(r.get("drift").get("rows").size() > 0);
        // The first stage learned: computing's perplexity fell from the base model's.
        JsonNode ppl = r.get("scores").get("perplexity").get("rows");
        assertTrue(ppl.get(1).get(0).asDouble() < ppl.get(0).get(0).asDouble());
        assertWallTimesMeasured(r);
        if (System.getProperty("os.name").startsWith("Linux")) {
            assertEquals("run", r.get("peak_rss_scope").asText(), "the peak was reset at start");
        }
    }

    /**
     * Each stage's wall time is measured: it covers the phases and more (export, checkpoints),
     * other_seconds is the rest, and the stages fit between the run's started and finished.
     */
    static void assertWallTimesMeasured(JsonNode r) {
        double sum = 0;
        for (JsonNode s : r.get("stages")) {
            double phases = s.get("train_seconds").asDouble() + s.get("fisher_seconds").asDouble()
                    + s.get("eval_seconds").asDouble() + s.get("drift_seconds").asDouble();
            double wall = s.get("wall_seconds").asDouble();
            assertTrue(wall > phases, "stage " + s.get("stage") + ": wall " + wall
                    + " s should exceed train + fisher + eval = " + phases + " s");
            assertEquals(wall - phases, s.get("other_seconds").asDouble(), 1e-9);
            sum += wall;
        }
        double elapsed = java.time.Duration.between(
                java.time.Instant.parse(r.get("run").get("started").asText()),
                java.time.Instant.parse(r.get("run").get("finished").asText())).toNanos() / 1e9;
        assertTrue(sum <= elapsed, "stages " + sum + " s within the run's " + elapsed + " s");
    }

    @Test
    void resumeGivesTheSameResultsAsAnUninterruptedRun() throws IOException {
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing",
                "legal");
        TrainConfig c = config("ewc+replay", Map.of("fisher-mode", "sampled"));
        Path full = tmp.resolve("full");
        try (ContinualTrainer t = ContinualTrainer.start(setup(c, doms), full, false)) {
            t.run();
        }
        Path cut = tmp.resolve("cut");
        try (ContinualTrainer t = ContinualTrainer.start(setup(c, doms), cut, false)) {
            t.requestStop(); // before the base evaluation, as a Ctrl-C while loading would
            assertEquals(ContinualTrainer.Outcome.INTERRUPTED, t.run());
            assertEquals(0, t.context().globalStep());
        }
        // Resume, stopping after every step: 12 steps across two domains and a domain boundary.
        for (int i = 0; i < 20; i++) {
            try (ContinualTrainer t = ContinualTrainer.builder().optProgress(false)
                    .optStrategies(parts -> stopAfter(parts, step -> true)).resume(cut)) {
                if (t.run() == ContinualTrainer.Outcome.COMPLETE) {
                    break;
                }
            }
        }
        JsonNode a = results(full).get("scores");
        JsonNode b = results(cut).get("scores");
        assertWallTimesMeasured(results(full));
        // Resumed after every step: each stage's wall time is the sum over its sessions, which
        // still covers the phases measured in them (but not the time before each resume).
        for (JsonNode s : results(cut).get("stages")) {
            assertTrue(s.get("wall_seconds").asDouble() > s.get("train_seconds").asDouble()
                    + s.get("fisher_seconds").asDouble() + s.get("eval_seconds").asDouble()
                    + s.get("drift_seconds").asDouble());
        }
        assertEquals("complete", results(cut).get("status").asText());
        for (String m : List.of("perplexity", "token_accuracy")) {
            JsonNode ra = a.get(m).get("rows");
            JsonNode rb = b.get(m).get("rows");
            assertEquals(ra.size(), rb.size());
            for (int k = 0; k < ra.size(); k++) {
                for (int j = 0; j < ra.get(k).size(); j++) {
                    double x = ra.get(k).get(j).asDouble();
                    double y = rb.get(k).get(j).asDouble();
                    assertTrue(Math.abs(x - y) <= 1e-4 * Math.abs(x), m + "[" + k + "][" + j
                            + "] " + x + " vs " + y);
                }
            }
        }
    }

    /**
     * The newer plugins keep their state in the checkpoint: LwF's teacher (with replay in add
     * mode, distilling on both kinds of windows), joint's and general replay's draws (with a
     * frozen tensor) come out the same after stops in both domains as in one go; LwF's term is 0
     * in the first domain and positive after.
     */
    @Test
    void resumeStaysExactWithLwfAndJoint() throws IOException {
        List<Path> all = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing",
                "legal", "code");
        List<Path> doms = all.subList(0, 2);
        for (TrainConfig c : List.of(config("replay+lwf", Map.of("replay-mode", "add",
                "eval-every", 0, "test-windows", 2)), config("joint", Map.of("eval-every", 0,
                "freeze", "wpe", "test-windows", 2)))) {
            // joint also replays general data (--general code), frozen position embeddings
            RunSetup s = c.get(Strategies.STRATEGY).equals("joint") ? setup(c, doms).withExtras(List.of(),
                    all.get(2)) : setup(c, doms);
            Path full = tmp.resolve(c.get(Strategies.STRATEGY) + "-full");
            try (ContinualTrainer t = ContinualTrainer.start(s, full, false)) {
                assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
            }
            Path cut = tmp.resolve(c.get(Strategies.STRATEGY) + "-cut");
            try (ContinualTrainer t = ContinualTrainer.start(s, cut, false,
                    parts -> stopAfter(parts, step -> step == 3))) {
                assertEquals(ContinualTrainer.Outcome.INTERRUPTED, t.run());
            }
            for (int i = 0; i < 5; i++) {
                try (ContinualTrainer t = ContinualTrainer.builder().optProgress(false)
                        .optStrategies(parts -> stopAfter(parts, step -> step == 8 || step == 10))
                        .resume(cut)) {
                    if (t.run() == ContinualTrainer.Outcome.COMPLETE) {
                        break;
                    }
                }
            }
            assertEquals(results(full).get("scores"), results(cut).get("scores"), c.get(Strategies.STRATEGY));
            List<JsonNode> steps = dev.retain.eval.results.MetricsLog.read(full).stream()
                    .filter(l -> l.get("type").asText().equals("step")).toList();
            JsonNode st = results(full).get("stages");
            if (c.get(Strategies.STRATEGY).contains("lwf")) {
                // add mode: 4 new + round(4 * 0.25) = 1 replayed window per step in domain 2;
                // the teacher's forward covers both (lwf-on both), from domain 2 on
                assertEquals(2 * 6 * 4 * 32, st.get(0).get("token_passes").asLong());
                assertEquals(2 * 6 * 5 * 32 + 6 * 5 * 32, st.get(1).get("token_passes").asLong());
                assertEquals(0, steps.get(5).get("penalty").asDouble(), "no teacher yet");
                // the second domain's first step: the model is still the teacher, KL 0
                assertEquals(0, steps.get(6).get("penalty").asDouble(), 1e-6);
                assertTrue(steps.get(7).get("penalty").asDouble() > 1e-6, "distilling");
            }
        }
    }

    @Test
    void generalReplayAndHeldOutDomains() throws IOException {
        List<Path> all = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing",
                "legal", "code", "scripture");
        List<Path> doms = all.subList(0, 2);
        // batch 4 x general-ratio 0.25 = one general window a step, from the first domain on
        TrainConfig c = config("naive", Map.of("general-ratio", 0.25, "eval-every", 0,
                "test-windows", 2, "replay-mode", "replace"));
        Path run = tmp.resolve("general");
        RunSetup s = setup(c, doms).withExtras(List.of(all.get(3)), all.get(2));
        try (ContinualTrainer t = ContinualTrainer.start(s, run, false)) {
            assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
        }
        JsonNode r = results(run);
        for (JsonNode st : r.get("stages")) {
            assertEquals(6 * 1 * 32, st.get("replay_tokens").asLong(), "general windows");
            assertEquals(6 * 3 * 32, st.get("new_tokens").asLong());
        }
        JsonNode held = r.get("held_out");
        assertEquals("scripture", held.get("domains").get(0).asText());
        assertEquals(3, held.get("perplexity").get("rows").size(), "base + 2 stages");
        assertEquals(3, r.get("scores").get("perplexity").get("rows").size());
        assertEquals(2, r.get("scores").get("perplexity").get("rows").get(0).size(),
                "the matrix holds the sequence's domains only");
        assertTrue(dev.retain.eval.results.MetricsLog.read(run).stream().anyMatch(l ->
                l.path("held_out").asBoolean() && l.get("domain").asText().equals("scripture")));
        var read = dev.retain.eval.results.RunResults.load(run);
        assertEquals(3, read.heldOut().rowCount());
        assertEquals(Math.log(held.get("perplexity").get("rows").get(2).get(0).asDouble()),
                read.heldOut().get(2, 0), 1e-9);
        // Neither may be one of the sequence's domains.
        dev.retain.core.UserError e = assertThrows(dev.retain.core.UserError.class,
                () -> setup(c, doms).withExtras(List.of(doms.get(1)), null));
        assertTrue(e.getMessage().startsWith("--eval-domains: legal is also a domain of the"
                + " run"), e.getMessage());
        e = assertThrows(dev.retain.core.UserError.class,
                () -> setup(c, doms).withExtras(List.of(), doms.get(0)));
        assertTrue(e.getMessage().startsWith("--general: computing is a domain of the run's"
                + " sequence"), e.getMessage());
    }

    @Test
    void replayModeAddPutsReplayedWindowsOnTopOfAFullBatch() throws IOException {
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing",
                "legal");
        Path run = tmp.resolve("add");
        TrainConfig c = config("replay", Map.of("replay-mode", "add", "replay-ratio", 0.5,
                "eval-every", 0, "test-windows", 2));
        try (ContinualTrainer t = ContinualTrainer.start(setup(c, doms), run, false)) {
            assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
        }
        JsonNode stages = results(run).get("stages");
        // batch 4, ratio 0.5: 2 replayed windows on top of 4 new ones, 6 steps of 32 tokens
        assertEquals(6 * 4 * 32, stages.get(0).get("new_tokens").asLong());
        assertEquals(0, stages.get(0).get("replay_tokens").asLong(), "nothing to replay yet");
        assertEquals(6 * 4 * 32, stages.get(1).get("new_tokens").asLong(), "as many as naive");
        assertEquals(6 * 2 * 32, stages.get(1).get("replay_tokens").asLong());
        List<JsonNode> steps = dev.retain.eval.results.MetricsLog.read(run).stream()
                .filter(l -> l.get("type").asText().equals("step")).toList();
        assertEquals(4 * 32, steps.get(0).get("tokens").asLong());
        assertEquals(6 * 32, steps.get(6).get("tokens").asLong(), "the second domain's steps");
        assertTrue(steps.get(6).get("replay").isNumber());
        dev.retain.core.UserError e = assertThrows(dev.retain.core.UserError.class,
                () -> config("replay", Map.of("replay-ratio", 1.0, "replay-mode", "replace")));
        assertTrue(e.getMessage().contains("or at most 1 with replay-mode add"), e.getMessage());
        config("replay", Map.of("replay-ratio", 1.0, "replay-mode", "add")); // allowed
    }

    @Test
    void frozenParametersStayBitForBitAndHaveNoOptimizerState() throws IOException {
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing",
                "legal");
        Path run = tmp.resolve("frozen");
        // the embeddings (= the tied output layer) and the first block
        String freeze = "wte|wpe|h\\.0\\.";
        TrainConfig c = config("ewc+replay", Map.of("freeze", freeze, "eval-every", 0,
                "test-windows", 2, "keep-checkpoints", 2));
        try (ContinualTrainer t = ContinualTrainer.start(setup(c, doms), run, false)) {
            assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
        }
        java.util.regex.Pattern p = java.util.regex.Pattern.compile(freeze);
        int frozen = 0;
        int moved = 0;
        try (var base = dev.retain.core.model.CausalLm.load(Fixtures.tiny(), ai.djl.Device.cpu(),
                0); var end = dev.retain.core.model.CausalLm.load(run.resolve(
                        "stage-1-legal.pt"), ai.djl.Device.cpu(), 0)) {
            for (int i = 0; i < base.parameters().size(); i++) {
                var a = base.parameters().get(i);
                var b = end.parameters().get(i);
                assertEquals(a.name(), b.name());
                boolean same = java.util.Arrays.equals(a.array().toByteArray(),
                        b.array().toByteArray());
                if (p.matcher(a.name()).find()) {
                    assertTrue(same, a.name() + " is frozen: unchanged bit for bit");
                    frozen++;
                } else {
                    moved += same ? 0 : 1;
                }
            }
            assertEquals(2 + 12, frozen, "wte, wpe and block 0's 12 tensors");
            assertTrue(moved > 0, "the other parameters trained");
            // AdamW holds m and v of the trained parameters only (the first stage's end: the
            // last one's checkpoint has no optimizer state, no step follows it).
            Path ckpt;
            try (var dirs = Files.list(run.resolve("checkpoints"))) {
                ckpt = dirs.filter(Files::isDirectory).sorted().findFirst().orElseThrow();
            }
            try (var m = ai.djl.ndarray.NDManager.newBaseManager();
                    var in = Files.newInputStream(ckpt.resolve("optimizer.ndlist"))) {
                var state = ai.djl.ndarray.NDList.decode(m, in);
                assertEquals(2 * (base.parameters().size() - frozen), state.size());
                for (var a : state) {
                    assertFalse(p.matcher(a.getName()).find(), a.getName());
                }
            }
        }
        dev.retain.core.UserError all = assertThrows(dev.retain.core.UserError.class,
                () -> ContinualTrainer.start(setup(config("naive", Map.of("freeze", ".")), doms),
                        tmp.resolve("all"), false));
        assertTrue(all.getMessage().startsWith("--freeze '.' matches every parameter of "),
                all.getMessage());
    }

    @Test
    void driftPlainNeedsNoFisherAndOffRecordsNothing() throws IOException {
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing",
                "legal");
        Map<String, JsonNode> drift = new java.util.HashMap<>();
        for (String mode : List.of("fisher", "plain", "off")) {
            Path run = tmp.resolve(mode);
            TrainConfig c = config("naive", Map.of("drift", mode, "eval-every", 0,
                    "test-windows", 1, "max-steps-per-domain", 2));
            try (ContinualTrainer t = ContinualTrainer.start(setup(c, doms), run, false)) {
                assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
            }
            JsonNode r = results(run);
            drift.put(mode, r.get("drift"));
            assertEquals(mode.equals("fisher"), r.get("stages").get(0).get("drift_seconds")
                    .asDouble() > 0, mode);
            assertFalse(Files.exists(run.resolve("checkpoints/drift.ndlist")), mode + ": none"
                    + " kept after the last domain");
        }
        assertEquals("fisher", drift.get("fisher").get("weighting").asText());
        assertEquals("none", drift.get("plain").get("weighting").asText());
        assertTrue(drift.get("off") == null, "no drift object");
        // plain is the unweighted squared distance: the same tensors, other values
        JsonNode f = drift.get("fisher").get("rows");
        JsonNode p = drift.get("plain").get("rows");
        assertEquals(f.size(), p.size());
        assertTrue(p.size() > 0);
        assertEquals(f.get(0).get("tensor"), p.get(0).get("tensor"));
        // ... and its value is sum (theta_1 - theta_0)^2 between the two stage models, in double
        JsonNode row = p.get(0);
        try (var m0 = dev.retain.core.model.CausalLm.load(tmp.resolve("plain/stage-0-computing.pt"),
                ai.djl.Device.cpu(), 0);
                var m1 = dev.retain.core.model.CausalLm.load(tmp.resolve("plain/stage-1-legal.pt"),
                        ai.djl.Device.cpu(), 0)) {
            float[] a = array(m0, row.get("tensor").asText());
            float[] b = array(m1, row.get("tensor").asText());
            double sum = 0;
            for (int i = 0; i < a.length; i++) {
                sum += ((double) b[i] - a[i]) * ((double) b[i] - a[i]);
            }
            assertEquals(sum, row.get("value").asDouble(), 1e-4 * sum);
        }
    }

    private static float[] array(dev.retain.core.model.CausalLm lm, String name) {
        return lm.parameters().stream().filter(q -> q.name().equals(name)).findFirst()
                .orElseThrow().array().toFloatArray();
    }

    @Test
    void exportStagesLastWritesOnlyTheFinalModelAndFisher() throws IOException {
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing",
                "legal");
        Path run = tmp.resolve("run");
        TrainConfig c = config("ewc", Map.of("export-stages", "last", "eval-every", 0,
                "test-windows", 1, "max-steps-per-domain", 2));
        try (ContinualTrainer t = ContinualTrainer.start(setup(c, doms), run, false)) {
            assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
        }
        assertTrue(!Files.exists(run.resolve("stage-0-computing.pt")));
        assertTrue(Files.exists(run.resolve("stage-1-legal.pt")));
        assertTrue(!Files.exists(run.resolve("ewc-stage-0.ndlist")));
        assertTrue(Files.exists(run.resolve("ewc-stage-1.ndlist")));
        JsonNode stages = results(run).get("stages");
        assertTrue(stages.get(0).get("model").isNull(), stages.toString());
        assertEquals("stage-1-legal.pt", stages.get(1).get("model").asText());
    }

    @Test
    void resumeRefusesChangedData() throws IOException {
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing",
                "legal");
        Path run = tmp.resolve("run");
        TrainConfig c = config("naive", Map.of("test-windows", 1, "eval-every", 0));
        try (ContinualTrainer t = ContinualTrainer.start(setup(c, doms), run, false)) {
            t.requestStop();
            assertEquals(ContinualTrainer.Outcome.INTERRUPTED, t.run());
        }
        Path train = doms.get(1).resolve("train.txt");
        String text = Files.readString(train);
        Files.writeString(train, text.substring(0, text.length() / 2));
        UserError e = assertThrows(UserError.class, () -> ContinualTrainer.resume(run, null,
                false));
        assertTrue(e.getMessage().startsWith(train.toAbsolutePath().normalize() + ": has changed"
                + " since run " + run + " started"), e.getMessage());
        // --allow-changed-data: goes on, and results.json says which file changed, and when
        try (ContinualTrainer t = ContinualTrainer.builder().optProgress(false)
                .optAllowChangedData(true).resume(run)) {
            assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
        }
        JsonNode changed = results(run).get("changed_inputs");
        assertEquals(1, changed.size());
        assertEquals(train.toAbsolutePath().normalize() + " (changed)",
                changed.get(0).get("file").asText());
        assertEquals(0, changed.get(0).get("resumed_at_step").asInt());
        Files.writeString(train, text);
    }

    @Test
    void resumeRefusesADamagedCheckpointInOneLine() throws IOException {
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing",
                "legal");
        Path run = tmp.resolve("run");
        TrainConfig c = config("ewc+replay", Map.of("test-windows", 1, "eval-every", 0,
                "max-steps-per-domain", 3));
        try (ContinualTrainer t = ContinualTrainer.start(setup(c, doms), run, false,
                parts -> stopAfter(parts, step -> step == 4))) {
            t.run(); // stopped in the second domain: its checkpoint holds every kind of file
        }
        JsonNode ptr = Json.MAPPER.readTree(run.resolve("checkpoint.json").toFile());
        Path ckpt = run.resolve(ptr.get("dir").asText());
        for (String f : List.of("model.pt", "optimizer.ndlist", "ewc.ndlist", "replay.json",
                "state.json", "config.json")) {
            Path file = ckpt.resolve(f);
            byte[] good = Files.readAllBytes(file);
            byte[] bad = good.clone();
            bad[bad.length / 2] ^= 0x5a; // one flipped byte inside the file
            Files.write(file, bad);
            UserError e = assertThrows(UserError.class, () -> ContinualTrainer.resume(run, null,
                    false), f);
            assertEquals(file + ": does not match its SHA-256 (manifest.json); this checkpoint is"
                    + " damaged and cannot be resumed from: restore the file, or delete "
                    + run.resolve("checkpoint.json") + " to start the run over", e.getMessage());
            Files.write(file, java.util.Arrays.copyOf(good, good.length - 1)); // truncated
            e = assertThrows(UserError.class, () -> ContinualTrainer.resume(run, null, false));
            assertTrue(e.getMessage().startsWith(file + ": has the wrong size"), e.getMessage());
            Files.write(file, good);
        }
        // A pointer or manifest naming a path outside the run's checkpoints is never followed.
        Path pointer = run.resolve("checkpoint.json");
        String intact = Files.readString(pointer);
        for (String dir : List.of("../../somewhere", "/etc", "checkpoints/..")) {
            Files.writeString(pointer, intact.replace(ptr.get("dir").asText(), dir));
            // not followed: the newest checkpoint inside the run that verifies is taken instead
            try (ContinualTrainer t = ContinualTrainer.resume(run, null, false)) {
                assertEquals(4, t.context().globalStep(), dir);
            }
        }
        Files.writeString(pointer, intact);
        Path manifest = ckpt.resolve("manifest.json");
        byte[] goodManifest = Files.readAllBytes(manifest);
        Files.writeString(manifest, new String(goodManifest, StandardCharsets.UTF_8)
                .replace("\"state.json\"", "\"../../../state.json\""));
        UserError outside = assertThrows(UserError.class, () -> ContinualTrainer.resume(run, null,
                false));
        assertEquals(manifest + ": '../../../state.json' points outside " + ckpt + "; only paths"
                + " inside it are followed (the file is damaged or was edited)",
                outside.getMessage());
        Files.write(manifest, goodManifest);
        try (ContinualTrainer t = ContinualTrainer.resume(run, null, false)) {
            assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run(), "intact again: resumes");
        }
        // No step follows the last stage: its checkpoint stores no optimizer moments.
        ptr = Json.MAPPER.readTree(run.resolve("checkpoint.json").toFile());
        Path last = run.resolve(ptr.get("dir").asText());
        assertFalse(Files.exists(last.resolve("optimizer.ndlist")));
        assertTrue(Files.exists(last.resolve("ewc.ndlist")));
        assertEquals(0, Json.MAPPER.readTree(last.resolve("state.json").toFile())
                .get("adam_steps").asInt());
    }

    @Test
    void aDivergingRunStopsAsDiverged() throws IOException {
        // The reproduction: --learning-rate 30 --max-grad-norm 0 --warmup-steps 0.
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing");
        Path run = tmp.resolve("run");
        TrainConfig c = config("naive", Map.of("learning-rate", 30.0, "max-grad-norm", 0.0,
                "save-every", 1, "warmup-steps", 0, "eval-every", 0, "test-windows", 2));
        try (ContinualTrainer t = ContinualTrainer.start(setup(c, doms), run, false)) {
            assertEquals(ContinualTrainer.Outcome.DIVERGED, t.run());
            String m = t.divergence().getMessage();
            assertTrue(m.startsWith("training diverged at step 2 (domain computing, its step 2):"
                    + " loss "), m);
            assertTrue(m.contains("x " + Divergence.number(firstLoss(run)) + " (the loss of the"
                    + " domain's first step; --divergence-factor)"), m);
            assertTrue(m.contains("the last good checkpoint (step 1) is kept"), m);
        }
        JsonNode r = results(run);
        assertEquals("diverged", r.get("status").asText());
        JsonNode d = r.get("divergence");
        assertEquals(2, d.get("step").asInt());
        assertEquals("computing", d.get("task").asText());
        assertTrue(d.get("value").asDouble() > 10 * firstLoss(run), d.toString());
        assertEquals(1, r.get("scores").get("perplexity").get("rows").size(), "only the base row");
        var read = dev.retain.eval.results.RunResults.load(run); // a diverged run is no damaged file
        assertTrue(read.diverged());
        assertEquals(d.get("message").asText(), read.divergence());
        assertEquals(1, Json.MAPPER.readTree(run.resolve("checkpoint.json").toFile())
                .get("global_step").asInt(), "the checkpoint of the last good step is kept");
    }

    /** The first step's loss, as the step-1 checkpoint recorded it (the bound's reference). */
    private static double firstLoss(Path run) throws IOException {
        Path ckpt = run.resolve(Json.MAPPER.readTree(run.resolve("checkpoint.json").toFile())
                .get("dir").asText());
        return Json.MAPPER.readTree(ckpt.resolve("state.json").toFile()).get("first_loss")
                .asDouble();
    }

    @Test
    void aNonFiniteEvaluationMarksTheRunDivergedInsteadOfWritingInfinity() throws IOException {
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing");
        Path run = tmp.resolve("run");
        TrainConfig c = config("naive", Map.of("learning-rate", 30.0, "max-grad-norm", 0.0,
                "warmup-steps", 0, "eval-every", 0, "test-windows", 2, "divergence-factor", 0.0,
                "max-steps-per-domain", 20));
        try (ContinualTrainer t = ContinualTrainer.start(setup(c, doms), run, false)) {
            assertEquals(ContinualTrainer.Outcome.DIVERGED, t.run());
            assertTrue(t.divergence().getMessage().startsWith("training diverged: the evaluation"
                    + " after step 20 (domain computing) gave perplexity Infinity on computing"
                    + " (test split)"), t.divergence().getMessage());
        }
        String text = Files.readString(run.resolve("results.json"));
        assertTrue(text.contains("\"status\" : \"diverged\""), "status diverged");
        assertTrue(!text.contains("\"Infinity\"") && !text.contains(": Infinity"),
                "no score is written as Infinity");
    }

    @Test
    void keptCheckpointsAreAFallbackThatResumesExactly() throws IOException {
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing");
        TrainConfig c = config("ewc+replay", Map.of("test-windows", 1, "eval-every", 0,
                "save-every", 2, "keep-checkpoints", 2));
        Path full = tmp.resolve("full");
        try (ContinualTrainer t = ContinualTrainer.start(setup(c, doms), full, false)) {
            t.run();
        }
        Path run = tmp.resolve("run");
        try (ContinualTrainer t = ContinualTrainer.start(setup(c, doms), run, false,
                parts -> stopAfter(parts, step -> step == 3))) {
            assertEquals(ContinualTrainer.Outcome.INTERRUPTED, t.run());
        }
        try (var dirs = Files.list(run.resolve("checkpoints"))) {
            assertEquals(List.of("step-000000002-s0", "step-000000003-s0"),
                    dirs.map(d -> d.getFileName().toString()).sorted().toList(), "two kept");
        }
        Path newest = run.resolve("checkpoints/step-000000003-s0/model.pt");
        byte[] b = Files.readAllBytes(newest);
        b[b.length / 2] ^= 0x5a;
        Files.write(newest, b);
        try (ContinualTrainer t = ContinualTrainer.resume(run, null, false)) {
            assertEquals(2, t.context().globalStep(), "fell back to the step-2 checkpoint");
            assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
        }
        try (var dirs = Files.list(run.resolve("checkpoints"))) {
            assertEquals(2, dirs.filter(Files::isDirectory).count(),
                    "the damaged one was replaced; two are kept");
        }
        JsonNode a = results(full).get("scores").get("perplexity").get("rows");
        JsonNode r = results(run).get("scores").get("perplexity").get("rows");
        assertEquals(a.toString(), r.toString(), "the same numbers as the uninterrupted run");
    }

    /**
     * The run's strategy plugins and one that asks the loop to stop after each global step that
     * {@code stopAt} accepts, as a Ctrl-C after that step would.
     */
    /**
     * A bf16 run stopped at step 3 and resumed computes in bf16 again (the resume pins the
     * precision the run started with) and ends with the uninterrupted bf16 run's scores to the
     * last digit: the bfloat16 copy of the model is made again from the float32 master weights.
     */
    @Test
    void aResumedBf16RunKeepsBf16AndMatchesTheUninterruptedRun() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                dev.retain.core.model.NativeBf16.found(ai.djl.Device.cpu()) != null,
                "skipped: this CPU has no bfloat16 instructions (amx_bf16, avx512_bf16, bf16)");
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing");
        RunSetup s = setup(config("naive", Map.of("precision", "bf16", "eval-every", 0,
                "test-windows", 2)), doms);
        Path full = tmp.resolve("bf16-full");
        try (ContinualTrainer t = ContinualTrainer.start(s, full, false)) {
            assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
        }
        Path cut = tmp.resolve("bf16-cut");
        try (ContinualTrainer t = ContinualTrainer.start(s, cut, false,
                parts -> stopAfter(parts, step -> step == 3))) {
            assertEquals(ContinualTrainer.Outcome.INTERRUPTED, t.run());
        }
        try (ContinualTrainer t = ContinualTrainer.builder().optProgress(false).resume(cut)) {
            assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
        }
        assertEquals("bf16", results(full).get("environment").get("precision").asText());
        assertEquals("bf16", results(cut).get("environment").get("precision").asText());
        assertEquals(results(full).get("scores"), results(cut).get("scores"));
    }

    /**
     * Checkpoints written with direct I/O (forced here on the tiny model, as a GPT-2-sized one gets
     * it) and hashed as they are written: the resume verifies every file against the manifest by
     * reading it back, and the resumed run ends as the uninterrupted one, score for score.
     */
    @Test
    void aCheckpointWrittenWithDirectIoVerifiesAndResumesExactly() throws IOException {
        Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "ckpt-");
        String before = System.getProperty(dev.retain.core.util.DirectOut.PROPERTY);
        System.setProperty(dev.retain.core.util.DirectOut.PROPERTY, "always");
        try {
            org.junit.jupiter.api.Assumptions.assumeTrue(
                    dev.retain.core.util.DirectOut.supported(dir),
                    "the file system of target/ takes no direct I/O (e.g. tmpfs)");
            List<Path> doms = Fixtures.smallDomains(dir.resolve("d"), 8000, 1500, "computing",
                    "legal");
            TrainConfig c = config("ewc+replay", Map.of("fisher-mode", "sampled"));
            Path full = dir.resolve("full");
            try (ContinualTrainer t = ContinualTrainer.start(setup(c, doms), full, false)) {
                assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
            }
            Path cut = dir.resolve("cut");
            try (ContinualTrainer t = ContinualTrainer.start(setup(c, doms), cut, false)) {
                t.requestStop();
                t.run();
            }
            try (ContinualTrainer t = ContinualTrainer.builder().optProgress(false)
                    .optStrategies(parts -> stopAfter(parts, step -> step == 5)).resume(cut)) {
                assertEquals(ContinualTrainer.Outcome.INTERRUPTED, t.run());
            }
            try (ContinualTrainer t = ContinualTrainer.builder().optProgress(false).resume(cut)) {
                assertEquals(5, t.context().globalStep(), "from the checkpoint the stop wrote");
                assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
            }
            assertEquals(results(full).get("scores"), results(cut).get("scores"));
        } finally {
            if (before == null) {
                System.clearProperty(dev.retain.core.util.DirectOut.PROPERTY);
            } else {
                System.setProperty(dev.retain.core.util.DirectOut.PROPERTY, before);
            }
            try (var s = Files.walk(dir)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    static List<dev.retain.train.plugin.Plugin> stopAfter(dev.retain.train.lm.Strategies.Parts parts,
            java.util.function.LongPredicate stopAt) {
        return onStep(parts, ctx -> {
            if (stopAt.test(ctx.globalStep())) {
                ctx.control().requestStop();
            }
        });
    }

    /** The strategy's plugins and one more that runs an action after every step. */
    static List<dev.retain.train.plugin.Plugin> onStep(dev.retain.train.lm.Strategies.Parts parts,
            java.util.function.Consumer<dev.retain.train.plugin.TrainContext> action) {
        List<dev.retain.train.plugin.Plugin> l = new java.util.ArrayList<>(
                dev.retain.train.lm.Strategies.plugins(parts));
        l.add(new dev.retain.train.plugin.Plugin() {
            @Override
            public String name() {
                return "on-step";
            }

            @Override
            public void afterStep(dev.retain.train.plugin.TrainContext ctx, StepResult r) {
                action.accept(ctx);
            }
        });
        return l;
    }

    @Test
    void diskFullWhileSavingKeepsThePreviousCheckpoint() throws IOException {
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing");
        Path run = tmp.resolve("run");
        TrainConfig c = config("ewc", Map.of("save-every", 2));
        try (ContinualTrainer t = ContinualTrainer.start(setup(c, doms), run, false)) {
            t.checkpoints().hook(f -> {
                if (t.context().globalStep() == 4 && f.getFileName().toString().equals("state.json")) {
                    throw new IOException("No space left on device");
                }
            });
            UserError e = assertThrows(UserError.class, t::run);
            assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
            assertTrue(e.getMessage().contains("the previous checkpoint (step 2) is kept and"
                    + " still usable"), e.getMessage());
        }
        JsonNode ptr = Json.MAPPER.readTree(run.resolve("checkpoint.json").toFile());
        assertEquals(2, ptr.get("global_step").asInt());
        try (ContinualTrainer t = ContinualTrainer.resume(run, null, false)) {
            assertEquals(2, t.context().globalStep());
            assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
        }
    }

    @Test
    void diskFullAtTheFirstCheckpointSaysThereIsNoEarlierOne() throws IOException {
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing");
        Path run = tmp.resolve("run");
        TrainConfig c = config("naive", Map.of("save-every", 2));
        try (ContinualTrainer t = ContinualTrainer.start(setup(c, doms), run, false)) {
            t.checkpoints().hook(f -> {
                throw new IOException("No space left on device");
            });
            UserError e = assertThrows(UserError.class, t::run);
            assertTrue(e.getMessage().contains("(No space left on device); there is no earlier"
                    + " checkpoint, so a resume starts the run over"), e.getMessage());
        }
        assertTrue(!Files.exists(run.resolve("checkpoint.json")));
    }

    @Test
    void resumeRefusesAFolderWithoutARunOrAnotherModel() throws IOException {
        UserError e = assertThrows(UserError.class, () -> ContinualTrainer.resume(
                tmp, null, false));
        assertTrue(e.getMessage().contains("holds no retain run"), e.getMessage());
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing");
        Path run = tmp.resolve("run");
        try (ContinualTrainer t = ContinualTrainer.start(setup(config("naive", Map.of()), doms),
                run, false)) {
            t.requestStop();
            t.run();
        }
        Path other = dev.retain.core.util.RepoPaths.resolve("datasets/models/small/model.pt");
        e = assertThrows(UserError.class, () -> ContinualTrainer.resume(run, other, false));
        assertTrue(e.getMessage().contains("another model"), e.getMessage());
    }

    @Test
    void domainWithoutTrainSplit() throws IOException {
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing");
        Files.delete(doms.get(0).resolve("train.txt"));
        UserError e = assertThrows(UserError.class, () -> setup(config("naive", Map.of()), doms));
        assertTrue(e.getMessage().contains("train.txt") && e.getMessage().contains("missing"),
                e.getMessage());
    }
}
