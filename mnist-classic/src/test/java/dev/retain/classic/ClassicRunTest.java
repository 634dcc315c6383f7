package dev.retain.classic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;
import dev.retain.core.util.Json;
import dev.retain.core.util.RepoPaths;
import dev.retain.eval.results.ClassifierResultsWriter;
import dev.retain.eval.results.RunResults;
import dev.retain.classic.data.Benchmark;
import dev.retain.classic.data.RotatedMnist;
import dev.retain.classic.data.Scenario;
import dev.retain.classic.data.SplitMnist;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Runs over seeds, results.json, every strategy end to end, and bad input. */
class ClassicRunTest {

    @TempDir Path tmp;

    @Test
    void resultsJsonHoldsMeanStdAndSeedsAndTheReportReaderAcceptsIt() throws IOException {
        ClassicConfig c = ClassicFixtures.tiny("split-mnist", Scenario.TASK, "hidden", "16",
                "seeds", "2");
        ClassicRun.Summary s = ClassicRun.run(c, Strategy.NAIVE, ClassicFixtures.mnist(),
                tmp.resolve("naive"), l -> { });
        JsonNode j = new ObjectMapper().readTree(s.results().toFile());
        assertEquals("retain.results/1", j.get("schema").asText());
        assertEquals("classifier", j.get("kind").asText());
        assertEquals("complete", j.get("status").asText());
        assertEquals(5, j.get("tasks").size());
        JsonNode acc = j.get("scores").get("accuracy");
        assertEquals(2, acc.get("seeds").asInt());
        assertEquals(6, acc.get("rows").size());
        assertEquals(2, acc.get("per_seed").size());
        for (int k = 0; k < 6; k++) {
            for (int t = 0; t < 5; t++) {
                double a = acc.get("per_seed").get(0).get(k).get(t).asDouble();
                double b = acc.get("per_seed").get(1).get(k).get(t).asDouble();
                assertEquals((a + b) / 2, acc.get("rows").get(k).get(t).asDouble(), 1e-12);
                assertEquals(Math.abs(a - b) / Math.sqrt(2),
                        acc.get("std_rows").get(k).get(t).asDouble(), 1e-12);
            }
        }
        assertTrue(j.get("metrics").has("average_accuracy"));
        assertEquals(5, j.get("stages").size());
        assertEquals("mlp-16", j.get("model").get("name").asText());
        // the report writers' reader takes it as a classifier run
        RunResults r = RunResults.load(tmp.resolve("naive"));
        assertTrue(r.isClassifier());
        assertEquals(2, r.seeds());
        assertNotNull(r.accuracyStd());
        assertTrue(r.primary().complete());
        assertEquals(s.metrics().get("average_accuracy").mean(),
                dev.retain.eval.metrics.ForgettingMetrics.of(r.primary()).averageFinal(), 1e-12);
    }

    /**
     * The classifier results.json written from fixed seeds' results is, apart from the machine
     * and the clock, the one the writer before the results codec wrote from them
     * (llm-eval/src/test/resources/results/v1-classifier*).
     */
    @Test
    void resultsJsonIsWhatTheWriterBeforeTheCodecWrote() throws IOException {
        ClassicConfig c = ClassicFixtures.tiny("split-mnist", Scenario.TASK, "hidden", "16",
                "seeds", "2");
        List<String> tasks = List.of("0-1", "2-3");
        ClassicTrainer.SeedResult a = new ClassicTrainer.SeedResult(1, tasks,
                new double[][] {{0.5, 0.25}, {0.99, 0.5}, {0.75, 0.98}},
                List.of(new ClassicTrainer.Stage(0, "0-1", 10, 100, 0, 0.5, 0.25, 0.125, 1.0),
                        new ClassicTrainer.Stage(1, "2-3", 10, 100, 50, 0.5, 0.25, 0.125, 1.0)),
                "mlp-16", 12345);
        ClassicTrainer.SeedResult b = new ClassicTrainer.SeedResult(2, tasks,
                new double[][] {{0.4, 0.3}, {0.97, 0.45}, {0.8, 0.96}},
                List.of(new ClassicTrainer.Stage(0, "0-1", 10, 100, 0, 0.75, 0.5, 0.25, 1.5),
                        new ClassicTrainer.Stage(1, "2-3", 10, 100, 50, 0.25, 0.5, 0.25, 1.25)),
                "mlp-16", 12345);
        for (Strategy st : new Strategy[] {Strategy.NAIVE, Strategy.EWC}) {
            boolean complete = st == Strategy.NAIVE;
            Path fixture = RepoPaths.resolve("llm-eval/src/test/resources/results", complete
                    ? "v1-classifier" : "v1-classifier-running", "results.json");
            JsonNode before = Json.MAPPER.readTree(fixture.toFile());
            ClassicRun.Summary sum = ClassicRun.summarize(c, st, List.of(a, b), 4.5,
                    tmp.resolve("results.json"));
            ClassifierResultsWriter w = ClassicRun.json(sum, "2026-12-01T11:00:00Z", complete);
            w.peakRssScope(true);
            w.peakRss(987654321L);
            ObjectNode now = w.json();
            now.set("environment", before.get("environment"));
            ((ObjectNode) now.get("run")).set("finished", before.get("run").get("finished"));
            assertEquals(Json.MAPPER.writeValueAsString(before),
                    Json.MAPPER.writeValueAsString(now), st.key());
        }
    }

    @Test
    void sameSeedSameNumbers() {
        ClassicConfig c = ClassicFixtures.tiny("split-mnist", Scenario.DOMAIN, "hidden", "16");
        Benchmark b = SplitMnist.of(ClassicFixtures.mnist());
        double[][] a = ClassicTrainer.run(c, Strategy.REPLAY, b, 4, l -> { }).accuracy();
        double[][] again = ClassicTrainer.run(c, Strategy.REPLAY, b, 4, l -> { }).accuracy();
        for (int k = 0; k < a.length; k++) {
            assertArrayEquals(a[k], again[k], 0.0);
        }
    }

    @Test
    void everyStrategyRunsInEveryScenarioItSupports() {
        // three rotations of 60 examples each: seconds for all strategies
        Benchmark b = RotatedMnist.of(ClassicFixtures.mnist(), new double[] {0, 45, 90}, 60, 1);
        for (Scenario sc : Scenario.values()) {
            ClassicConfig c = ClassicFixtures.tiny("rotated-mnist", sc, "tasks", "3",
                    "batch-size", "20", "replay-samples", "50", "stream-batch", "20",
                    "fisher-samples", "5");
            for (Strategy s : Strategy.values()) {
                if (s == Strategy.PNN && sc != Scenario.TASK) {
                    continue;
                }
                ClassicTrainer.SeedResult r = ClassicTrainer.run(c, s, b, 2, l -> { });
                assertEquals(4, r.accuracy().length, s + " " + sc);
                for (double[] row : r.accuracy()) {
                    for (double v : row) {
                        assertTrue(v >= 0 && v <= 1, s + " " + sc + ": " + v);
                    }
                }
                long replayed = r.stages().stream().mapToLong(ClassicTrainer.Stage::replayExamples)
                        .sum();
                assertEquals(s.usesMemory(), replayed > 0, s + " " + sc + " replayed "
                        + replayed);
                assertEquals(s.online() ? 60 : s == Strategy.JOINT ? 120 : 60,
                        r.stages().get(1).newExamples(), s + " " + sc);
            }
        }
    }

    @Test
    void pnnNeedsTaskIdentity() {
        for (Scenario sc : new Scenario[] {Scenario.CLASS, Scenario.DOMAIN}) {
            ClassicConfig c = ClassicFixtures.tiny("split-mnist", sc);
            UserError e = assertThrows(UserError.class, () -> ClassicRun.check(c, Strategy.PNN,
                    ClassicFixtures.mnist()));
            assertTrue(e.getMessage().contains("pnn") && e.getMessage().contains("task"),
                    e.getMessage());
        }
    }

    @Test
    void replayMemoryLargerThanTheData() {
        ClassicConfig c = ClassicFixtures.tiny("split-mnist", Scenario.CLASS, "replay-samples",
                "8001");
        UserError e = assertThrows(UserError.class, () -> ClassicRun.check(c, Strategy.REPLAY,
                ClassicFixtures.mnist()));
        assertTrue(e.getMessage().startsWith("--replay-samples 8001:"), e.getMessage());
        assertTrue(e.getMessage().contains("8000 training examples"), e.getMessage());
        // exactly the data is allowed
        ClassicRun.check(ClassicFixtures.tiny("split-mnist", Scenario.CLASS, "replay-samples",
                "8000"), Strategy.REPLAY, ClassicFixtures.mnist());
    }

    @Test
    void unknownBenchmarkStrategyOrMode() {
        UserError e = assertThrows(UserError.class, () -> ClassicConfig.defaults("cifar-10"));
        assertTrue(e.getMessage().startsWith("--benchmark cifar-10:"), e.getMessage());
        e = assertThrows(UserError.class, () -> Strategy.parseList("naive,gem", "--strategy"));
        assertTrue(e.getMessage().contains("'gem'"), e.getMessage());
        e = assertThrows(UserError.class, () -> ClassicFixtures.tiny("split-mnist", null,
                "replay-mode", "fifo"));
        assertTrue(e.getMessage().startsWith("--replay-mode fifo"), e.getMessage());
        assertTrue(e.getMessage().contains("reservoir, class-balanced or stream"), e.getMessage());
        for (String mode : new String[] {"reservoir", "class-balanced", "stream"}) {
            assertEquals(mode, ClassicFixtures.tiny("split-mnist", null, "replay-mode", mode)
                    .replayMode());
        }
    }
}
