package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.eval.results.MetricsLog;
import dev.retain.train.stream.PlateauDetector;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code retain plateaus}: the detector over a run's logged losses against the true boundaries,
 * on a log written here with detections worked out by hand, and on a short real run.
 */
class PlateausCommandTest {

    @TempDir Path tmp;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Settings of the hand-worked log (those of PlateauDetectorTest). */
    private static final String[] SMALL = {"--plateau-window", "4", "--plateau-peak", "3",
        "--plateau-stable", "0.01", "--plateau-floor", "0.01"};

    private static String step(long step, int stage, String domain, double newLoss) {
        // "loss" is a constant 9: the command must read the new windows' loss ("new"), with which
        // a constant would make no detection at all
        return "{\"type\":\"step\",\"step\":" + step + ",\"stage\":" + stage + ",\"domain\":\""
                + domain + "\",\"loss\":9.0,\"new\":" + newLoss + ",\"replay\":null}\n";
    }

    /**
     * Three domains, 44 steps, window 4:
     * <ul>
     *   <li>a, steps 1-10: 5, 4, 3, then 2.5. Step 4 [5,4,3,2.5] (mean 3.625) is the start's peak;
     *       step 5 [4,3,2.5,2.5] mean 3.0 and step 6 [3,2.5,2.5,2.5] mean 2.625 have standard
     *       errors 0.306 and 0.108, not under 0.01 x the mean; step 7 is flat at 2.5: detection
     *       7 (6 steps after the start). Plateau 2.5, std 0: a peak needs a mean above 2.53.
     *   <li>b, steps 11-34: 4, 3, 2.5 x 12 (13-24), 4 (25), 3 (26), 2.5 x 8 (27-34). Step 11
     *       [2.5,2.5,2.5,4] mean 2.875: a peak; 12 [2.5,2.5,4,3] 3.0; 13 and 14 also 3.0 (not
     *       below); 15 [3,2.5,2.5,2.5] 2.625, not stable; 16 flat: detection 16, 5 steps after the
     *       boundary at 11. The same bump from step 25: peak at 25, detection at 30: 19 steps
     *       after 11, more than --near 10: a false trigger.
     *   <li>c, steps 35-44: 2.5 throughout: no peak, no detection: "none".
     * </ul>
     * Step 20 is logged twice (a resumed run writes a step again): first with 100, which would
     * make a peak; the last line counts. An evaluation line is not a step.
     */
    private Path handWorkedRun() throws Exception {
        StringBuilder log = new StringBuilder();
        double[] a = {5, 4, 3, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5};
        long s = 1;
        for (double x : a) {
            log.append(step(s++, 0, "a", x));
        }
        log.append("{\"type\":\"eval\",\"step\":10,\"stage\":0,\"domain\":\"a\",\"loss\":1}\n");
        for (int i = 0; i < 24; i++) {
            double x = i == 0 || i == 14 ? 4 : i == 1 || i == 15 ? 3 : 2.5;
            if (s == 20) {
                log.append(step(s, 1, "b", 100));
            }
            log.append(step(s++, 1, "b", x));
        }
        for (int i = 0; i < 10; i++) {
            log.append(step(s++, 2, "c", 2.5));
        }
        Path run = tmp.resolve("run");
        Files.createDirectories(run);
        Files.writeString(run.resolve(MetricsLog.FILE), log.toString());
        return run;
    }

    private static String[] args(String... more) {
        List<String> a = new ArrayList<>(List.of("plateaus"));
        a.addAll(List.of(SMALL));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void handWorkedLogGivesTheStepsWorkedOut() throws Exception {
        Path run = handWorkedRun();
        Path json = tmp.resolve("out/plateaus.json");
        CliTest.Run r = CliTest.run(args(run.toString(), "--near", "10", "--json",
                json.toString()));
        assertEquals(0, r.code(), r.err());
        String out = r.out();
        assertTrue(out.contains("44 steps over 3 domains; window 4, peak 3, stable 0.01, floor"
                + " 0.01; near 10 steps"), out);
        assertTrue(out.matches("(?s).*start +1 +a +7 +6\n.*"), out);
        assertTrue(out.matches("(?s).*1 +11 +b +16 +5\n.*"), out);
        assertTrue(out.matches("(?s).*2 +35 +c +none +-\n.*"), out);
        assertTrue(out.contains("detections: 3 at steps 7, 16, 30\n"), out);
        assertTrue(out.contains("false triggers (not within 10 steps after the start or a"
                + " boundary): 1 at steps 30\n"), out);
        assertTrue(out.contains("summary: 1 of 2 boundaries detected (mean 5.0 steps after),"
                + " 1 false trigger, 3 detections\n"), out);

        JsonNode n = JSON.readTree(json.toFile());
        assertEquals(44, n.get("steps").asInt());
        assertEquals(4, n.get("settings").get("plateau-window").asInt());
        assertEquals(10, n.get("settings").get("near").asInt());
        assertEquals(7, n.get("start").get("first_detection").asInt());
        assertEquals(11, n.get("boundaries").get(0).get("step").asInt());
        assertEquals("b", n.get("boundaries").get(0).get("domain").asText());
        assertEquals(16, n.get("boundaries").get(0).get("first_detection").asInt());
        assertEquals(5, n.get("boundaries").get(0).get("steps_after").asInt());
        assertEquals(35, n.get("boundaries").get(1).get("step").asInt());
        assertTrue(n.get("boundaries").get(1).get("first_detection").isNull());
        assertEquals("[7,16,30]", n.get("detections").toString());
        assertEquals("[30]", n.get("false_triggers").toString());
        assertEquals(1, n.get("summary").get("detected").asInt());
        assertEquals(5.0, n.get("summary").get("mean_steps_after").asDouble());
        assertEquals(1, n.get("summary").get("false_triggers").asInt());
    }

    /** Without --near: 3 x the window = 12; 30 - 11 = 19 is still false. --near 19 takes it. */
    @Test
    void nearDefaultsToThreeWindows() throws Exception {
        Path run = handWorkedRun();
        CliTest.Run r = CliTest.run(args(run.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("near 12 steps"), r.out());
        assertTrue(r.out().contains("1 at steps 30\n"), r.out());
        r = CliTest.run(args(run.toString(), "--near", "19"));
        assertTrue(r.out().contains("boundary): none\n"), r.out());
        assertTrue(r.out().contains("0 false triggers"), r.out());
    }

    @Test
    void badInputIsOneLineAndExitTwo() throws Exception {
        CliTest.userError(CliTest.run("plateaus", tmp.toString()), "metrics.jsonl",
                "no such file");
        Files.writeString(tmp.resolve(MetricsLog.FILE), "{\"type\":\"eval\",\"step\":0}\n");
        CliTest.userError(CliTest.run("plateaus", tmp.toString()), "no step lines");
        Files.writeString(tmp.resolve(MetricsLog.FILE), step(1, 0, "a", 2.0)
                + step(2, 0, "a", 2.0));
        CliTest.userError(CliTest.run("plateaus", tmp.toString()), "one domain (a)",
                "two or more");
        CliTest.userError(CliTest.run("plateaus", tmp.toString(), "--plateau-window", "1"),
                "--plateau-window");
        CliTest.userError(CliTest.run("plateaus"), "takes one run folder");
    }

    /**
     * A real naive run of the committed tiny model over two domains (10 steps each), then the
     * command over its log: one boundary at step 11, and the detections those of the detector fed
     * the logged "new" losses in step order.
     */
    @Test
    void aRealRunsLog() throws Exception {
        List<String> a = new ArrayList<>(List.of("train", "--model", CliTest.TINY,
                "--tokenizer", CliTest.TOK, "--strategy", "naive", "--out",
                tmp.resolve("real").toString(), "--max-steps-per-domain", "8", "--seq-len",
                "32", "--batch-size", "2", "--test-windows", "2", "--eval-every", "0",
                "--token-detail", "0", "--device", "cpu", "--quiet", "--domains"));
        for (String d : new String[] {"computing", "scripture"}) {
            a.add(TestDomains.cut(tmp.resolve("domains"), d, 6000, 1200).toString());
        }
        CliTest.Run t = CliTest.run(a.toArray(String[]::new));
        assertEquals(0, t.code(), t.err());

        Path json = tmp.resolve("p.json");
        CliTest.Run r = CliTest.run("plateaus", tmp.resolve("real").toString(),
                "--plateau-window", "3", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode n = JSON.readTree(json.toFile());
        assertEquals(16, n.get("steps").asInt());
        assertEquals(1, n.get("boundaries").size());
        assertEquals(9, n.get("boundaries").get(0).get("step").asInt());
        assertEquals("scripture", n.get("boundaries").get(0).get("domain").asText());
        PlateauDetector d = new PlateauDetector(3, PlateauDetector.PEAK.dflt(),
                PlateauDetector.STABLE.dflt(), PlateauDetector.FLOOR.dflt());
        List<Long> expected = new ArrayList<>();
        for (JsonNode l : MetricsLog.read(tmp.resolve("real"))) {
            if (l.path("type").asText().equals("step") && d.update(l.get("new").asDouble())) {
                expected.add(l.get("step").asLong());
            }
        }
        assertEquals(expected.toString().replace(" ", ""), n.get("detections").toString());
        assertTrue(r.out().contains("summary: "), r.out());
    }
}
