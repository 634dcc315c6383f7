package dev.retain.eval.results;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.util.Json;
import dev.retain.eval.EvalResult;
import dev.retain.eval.metrics.Cost;
import dev.retain.eval.metrics.CurvePoint;
import dev.retain.eval.metrics.DriftMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The results.json codec: what the writers write reads back with the same values, and the files
 * the writers wrote before the codec ({@code src/test/resources/results/v1-*}) are still read
 * and still written the same from the same inputs.
 */
class ResultsCodecTest {

    private static final List<String> TASKS = List.of("computing", "legal \"quoted\"");

    @TempDir Path tmp;

    /** A fixture written by the writers before the codec. */
    static Path fixture(String name) {
        try {
            return Path.of(ResultsCodecTest.class.getResource("/results/" + name
                    + "/results.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One row of test results: mean NLL {@code 5.5 - k} and {@code 6.25 + k}. */
    static List<EvalResult> row(double k) {
        return List.of(new EvalResult(TASKS.get(0), "test", 100, 2, 98, 98 * (5.5 - k),
                30 + (long) k, 1.5), new EvalResult(TASKS.get(1), "test", 120, 2, 118,
                118 * (6.25 + k), 20, 2.0));
    }

    /**
     * The run the {@code v1-lm} fixture holds, recorded again: the same calls as the writer
     * before the codec got, stages given by their costs.
     */
    static ResultsRecorder lmRun() {
        ObjectNode config = Json.object();
        config.put("learning_rate", 3e-4);
        config.put("batch_size", 8);
        config.put("strategy", "ewc+replay");
        ResultsRecorder r = ResultsRecorder.start("ewc+replay", "ewc+replay",
                "2026-12-01T10:00:00Z", config, ResultsRecorder.model("m.pt", 3500000, 128,
                        50257, 64), TASKS);
        r.peakRssScope(true);
        r.addRow(row(0));
        r.addBoundary(0);
        r.addLoss(10, 5.25, 5.5, Double.NaN, 0.0);
        r.addCurve(10, 0, row(0.5).get(0));
        r.addCurve(10, 0, row(0.5).get(1));
        r.addRow(row(1));
        // wall 2.5 at the stage's end, then 0.5 s of checkpoint: other = 3.0 - 2.5 = 0.5
        r.addStage(new Cost.Stage(0, TASKS.get(0), 20, 1280, 960, 320, 1.25, 0.5, 0.75, 0, 2.5,
                7680),
                "stage-0-computing.pt");
        r.addLastStageSeconds(0.5);
        r.peakRss(123456789);
        r.addBoundary(20);
        r.addLoss(30, 4.75, 4.5, 5.125, 0.0625);
        Map<String, Double> per = new LinkedHashMap<>();
        per.put("transformer.h.0.attn.c_attn.weight", 1.5e-4);
        per.put("lm_head.weight", 2.5e-5);
        r.addDrift(1, per, Map.of("transformer.h.0.attn.c_attn.weight", "h.0",
                "lm_head.weight", "head"));
        r.addRow(row(2));
        r.addStage(new Cost.Stage(1, TASKS.get(1), 20, 1280, 960, 320, 1.25, 0.5, 0.75, 0, 3.0,
                7680),
                "stage-0-computing.pt");
        r.peakRss(100);
        r.peakRssScope(false);
        r.complete();
        return r;
    }

    /**
     * The text of a document as written, with what depends on the machine and the clock set to
     * the fixture's values.
     */
    static String pinned(ObjectNode written, JsonNode fixture) throws IOException {
        ObjectNode w = written.deepCopy();
        w.set("environment", fixture.get("environment"));
        ((ObjectNode) w.get("run")).set("finished", fixture.get("run").get("finished"));
        return text(w);
    }

    static String text(JsonNode n) throws IOException {
        return Json.MAPPER.writeValueAsString(n);
    }

    /** The fixture as the writer before the codec wrote it, plus each stage's drift_seconds. */
    @Test
    void theRecorderWritesWhatTheWriterBeforeTheCodecWrote() throws IOException {
        JsonNode before = Json.MAPPER.readTree(fixture("v1-lm").resolve("results.json")
                .toFile());
        assertEquals(text(before), pinned(lmRun().json(), before));
    }

    @Test
    void theClassifierWriterWritesWhatTheWriterBeforeTheCodecWrote() throws IOException {
        for (String name : List.of("v1-classifier", "v1-classifier-running")) {
            JsonNode before = Json.MAPPER.readTree(fixture(name).resolve("results.json")
                    .toFile());
            ClassifierResultsWriter w = classifierRun(before);
            assertEquals(text(before), pinned(w.json(), before), name);
        }
    }

    /** The fixture's run written again from its values (the seeds' averages are its own). */
    static ClassifierResultsWriter classifierRun(JsonNode f) {
        JsonNode acc = f.get("scores").get("accuracy");
        List<Long> seeds = List.of(1L, 2L);
        ClassifierResultsWriter w = ClassifierResultsWriter.start(f.get("run").get("name")
                .asText(), f.get("run").get("strategy").asText(), "2026-12-01T11:00:00Z", seeds,
                (ObjectNode) f.get("config"), 1, "cpu()", "mlp-16", 12345, List.of("0-1",
                        "2-3"));
        if (f.get("status").asText().equals("complete")) {
            w.complete("2026-12-01T11:01:00Z");
        }
        w.accuracy(matrix(acc.get("rows")), matrix(acc.get("std_rows")),
                List.of(matrix(acc.get("per_seed").get(0)), matrix(acc.get("per_seed").get(1))));
        f.get("metrics").fields().forEachRemaining(e -> w.metric(e.getKey(),
                e.getValue().get("mean").asDouble(), e.getValue().get("std").asDouble(),
                new double[] {e.getValue().get("per_seed").get(0).asDouble(),
                    e.getValue().get("per_seed").get(1).asDouble()}));
        long step = 0;
        for (JsonNode s : f.get("stages")) {
            w.addStage(s.get("stage").asInt(), s.get("task").asText(), step,
                    s.get("steps").asLong(), s.get("new_examples").asLong(),
                    s.get("replay_examples").asLong(), s.get("train_seconds").asDouble(),
                    s.get("fisher_seconds").isNull() ? null
                            : s.get("fisher_seconds").asDouble(),
                    s.get("eval_seconds").asDouble(), s.get("wall_seconds").asDouble());
            step += s.get("steps").asLong();
        }
        w.wallSeconds(4.5);
        w.peakRss(987654321L);
        w.peakRssScope(true);
        return w;
    }

    private static double[][] matrix(JsonNode rows) {
        double[][] m = new double[rows.size()][];
        for (int k = 0; k < m.length; k++) {
            m[k] = new double[rows.get(k).size()];
            for (int j = 0; j < m[k].length; j++) {
                m[k][j] = rows.get(k).get(j).asDouble();
            }
        }
        return m;
    }

    @Test
    void aRecordedRunReadsBackWithTheSameValues() throws IOException {
        ResultsRecorder rec = lmRun();
        rec.write(tmp);
        RunResults r = ResultsCodec.read(tmp);
        assertLmRun(r, tmp.resolve(ResultsCodec.FILE_NAME));
        // a checkpoint's copy of the document carries on where it was
        ResultsRecorder again = ResultsRecorder.of(Json.MAPPER.readTree(
                Json.MAPPER.writeValueAsBytes(rec.json())));
        assertEquals(text(rec.json()), text(again.json()));
        assertEquals(3, again.rows());
        assertEquals(2, again.boundaries());
    }

    @Test
    void theFileWrittenBeforeTheCodecReadsWithTheSameValues() {
        assertLmRun(ResultsCodec.read(fixture("v1-lm")), fixture("v1-lm").resolve(
                ResultsCodec.FILE_NAME));
    }

    private static void assertLmRun(RunResults r, Path file) {
        assertEquals(file, r.file());
        assertEquals("lm", r.kind());
        assertEquals("complete", r.status());
        assertEquals("ewc+replay", r.name());
        assertEquals("ewc+replay", r.strategy());
        assertEquals("2026-12-01T10:00:00Z", r.started());
        assertEquals(TASKS, r.tasks());
        for (int k = 0; k < 3; k++) {
            double[] nll = new double[2];
            double[] ppl = new double[2];
            double[] acc = new double[2];
            for (int j = 0; j < 2; j++) {
                EvalResult e = row(k).get(j);
                nll[j] = e.meanNll();
                ppl[j] = e.perplexity();
                acc[j] = e.tokenAccuracy();
            }
            assertArrayEquals(nll, r.scores().get("mean_nll").rows()[k], 0.0);
            assertArrayEquals(ppl, r.scores().get("perplexity").rows()[k], 0.0);
            assertArrayEquals(acc, r.scores().get("token_accuracy").rows()[k], 0.0);
        }
        assertEquals(List.of(new Cost.Stage(0, TASKS.get(0), 20, 1280, 960, 320, 1.25, 0.5,
                0.75, 0, 3.0, 7680), new Cost.Stage(1, TASKS.get(1), 20, 1280, 960, 320, 1.25,
                        0.5, 0.75, 0, 3.0, 7680)), r.stages());
        assertEquals(List.of(0L, 20L), r.boundaries());
        EvalResult c = row(0.5).get(1);
        assertEquals(new CurvePoint(10, 0, TASKS.get(1), c.perplexity(), c.meanNll(),
                c.tokenAccuracy()), r.curves().get(1));
        assertEquals("fisher", r.driftWeighting());
        assertEquals(List.of(new DriftMap.Entry(1, "transformer.h.0.attn.c_attn.weight", "h.0",
                1.5e-4), new DriftMap.Entry(1, "lm_head.weight", "head", 2.5e-5)), r.drift());
        assertEquals(123456789, r.peakRssBytes());
        assertEquals("process", r.peakRssScope());
        assertEquals(128, r.model().get("context").asInt());
        assertEquals(8, r.config().get("batch_size").asInt());
    }

    @Test
    void classifierFilesReadBackWithTheirValues() throws IOException {
        JsonNode f = Json.MAPPER.readTree(fixture("v1-classifier").resolve("results.json")
                .toFile());
        ClassifierResultsWriter w = classifierRun(f);
        w.write(tmp);
        for (Path dir : List.of(fixture("v1-classifier"), tmp)) {
            RunResults r = ResultsCodec.read(dir);
            assertTrue(r.isClassifier());
            assertEquals("complete", r.status());
            assertEquals(List.of("0-1", "2-3"), r.tasks());
            assertEquals(2, r.seeds());
            assertArrayEquals(new double[] {0.775, 0.97}, r.primary().rows()[2], 0.0);
            assertArrayEquals(new double[] {0.014142135623730963, 0.03535533905932737},
                    r.accuracyStd().rows()[1], 0.0);
            assertEquals(List.of(0L, 10L), r.boundaries());
            assertEquals(2, r.stages().size());
            assertEquals(987654321L, r.peakRssBytes());
            assertEquals("run", r.peakRssScope());
            assertEquals("mlp-16", r.model().get("name").asText());
        }
        RunResults running = ResultsCodec.read(fixture("v1-classifier-running"));
        assertEquals("running", running.status());
        assertNull(running.finished());
    }
}
