package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;


import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** {@code retain run}: the comparison, re-runs that train nothing, and kill -9 then re-run. */
class RunCommandTest {

    @TempDir Path tmp;

    Path experiment(String name) throws IOException {
        for (String n : new String[] {"computing", "scripture"}) {
            TestDomains.cut(tmp.resolve("domains"), n, 12000, 1200);
        }
        Path f = tmp.resolve(name + ".yaml");
        Files.writeString(f, "model: " + CliTest.TINY + "\ntokenizer: " + CliTest.TOK
                + "\ndomains: [domains/computing, domains/scripture]\nout: " + name + "-out\n"
                + "settings:\n  seq-len: 32\n  batch-size: 4\n  max-steps-per-domain: 10\n"
                + "  fisher-samples: 4\n  replay-tokens: 1024\n  save-every: 2\n  device: cpu\n"
                + "variants: [naive, ewc+replay]\n");
        return f;
    }

    @Test
    void comparesVariantsAndReRunTrainsNothing() throws IOException {
        Path f = experiment("a");
        CliTest.Run r = CliTest.run("run", f.toString(), "--quiet");
        assertEquals(0, r.code(), r.err());
        Path report = tmp.resolve("a-out/report");
        for (String file : new String[] {"report.html", "report.md", "report.json",
            "results.csv"}) {
            assertTrue(Files.exists(report.resolve(file)), file);
        }
        assertTrue(r.out().contains("naive") && r.out().contains("ewc+replay"), r.out());
        assertTrue(r.out().contains("report.html"), r.out());
        assertRankingPrinted(r.out(), tmp.resolve("a-out"));
        String md = Files.readString(report.resolve("report.md"));
        long mtime = Files.getLastModifiedTime(tmp.resolve("a-out/naive/results.json"))
                .toMillis();
        CliTest.Run again = CliTest.run("run", f.toString(), "--quiet");
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("finished before, skipped"), again.out());
        assertTrue(again.out().contains("(0 trained now, 2 finished before)"), again.out());
        assertEquals(mtime, Files.getLastModifiedTime(tmp.resolve("a-out/naive/results.json"))
                .toMillis(), "no training: results untouched");
        assertEquals(md, Files.readString(report.resolve("report.md")), "the same report");
    }

    /**
     * The ranking follows the comparison table: best average final perplexity first, where that
     * average is worked out here from each variant's results.json (geometric mean of the final
     * row's perplexities = exp of the mean final NLL), and naive is the baseline.
     */
    static void assertRankingPrinted(String out, Path runs) throws IOException {
        int table = out.indexOf("avg final ppl");
        int heading = out.indexOf("ranking, best average final perplexity first");
        assertTrue(table >= 0 && heading > table, "ranking after the comparison: " + out);
        String[] lines = out.substring(heading).split("\n");
        assertTrue(lines[1].strip().startsWith("rank"), out);
        Map<String, Double> finalPpl = new HashMap<>();
        for (String v : new String[] {"naive", "ewc+replay"}) {
            JsonNode rows = new ObjectMapper().readTree(runs.resolve(v + "/results.json")
                    .toFile()).get("scores").get("perplexity").get("rows");
            JsonNode last = rows.get(rows.size() - 1);
            double logSum = 0;
            for (JsonNode x : last) {
                logSum += Math.log(x.asDouble());
            }
            finalPpl.put(v, Math.exp(logSum / last.size()));
        }
        List<String> order = new ArrayList<>(finalPpl.keySet());
        order.sort(Comparator.comparing(finalPpl::get));
        for (int i = 0; i < 2; i++) {
            String[] cells = lines[2 + i].strip().split("\\s{2,}");
            assertEquals(String.valueOf(i + 1), cells[0], lines[2 + i]);
            assertEquals(order.get(i), cells[1], lines[2 + i]);
            assertEquals(order.get(i), cells[2], "strategy: " + lines[2 + i]);
            double ppl = Double.parseDouble(cells[3]);
            assertEquals(finalPpl.get(order.get(i)), ppl, 0.006 * ppl, lines[2 + i]);
            if (order.get(i).equals("naive")) {
                assertTrue(lines[2 + i].contains("(baseline)") && lines[2 + i].endsWith("1.00x"),
                        lines[2 + i]);
            } else {
                // Forgetting reduced is n/a when naive did not forget (a tiny run can improve).
                assertTrue(lines[2 + i].matches(".*(-?\\d+%|n/a).*nats.*\\d\\.\\d\\dx"),
                        lines[2 + i]);
            }
        }
    }

    @Test
    void killDuringSecondVariantThenReRunMatchesUninterrupted() throws Exception {
        Path f = experiment("b");
        assertEquals(0, CliTest.run("run", f.toString(), "--quiet").code());
        Path g = experiment("c");
        List<String> cmd = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "-cp", System.getProperty("java.class.path"), "dev.retain.cli.Main",
                "run", g.toString(), "--quiet"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("child.log").toFile()).start();
        Path ptr = tmp.resolve("c-out/ewc+replay/checkpoint.json");
        ObjectMapper json = new ObjectMapper();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (System.nanoTime() < deadline) {
            if (Files.exists(ptr) && json.readTree(ptr.toFile()).get("global_step").asInt() >= 12) {
                break;
            }
            assertTrue(p.isAlive(), "child ended early: " + Files.readString(
                    tmp.resolve("child.log")));
            Thread.sleep(50);
        }
        p.destroyForcibly();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        CliTest.Run r = CliTest.run("run", g.toString(), "--quiet");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("ewc+replay: resuming"), r.out());
        for (String v : new String[] {"naive", "ewc+replay"}) {
            JsonNode a = json.readTree(tmp.resolve("b-out/" + v + "/results.json").toFile())
                    .get("scores").get("perplexity").get("rows");
            JsonNode b = json.readTree(tmp.resolve("c-out/" + v + "/results.json").toFile())
                    .get("scores").get("perplexity").get("rows");
            assertEquals(a.size(), b.size());
            for (int k = 0; k < a.size(); k++) {
                for (int j = 0; j < a.get(k).size(); j++) {
                    double x = a.get(k).get(j).asDouble();
                    double y = b.get(k).get(j).asDouble();
                    assertTrue(Math.abs(x / y - 1) < 1e-4, v + " R[" + k + "][" + j + "] " + x
                            + " vs " + y);
                }
            }
        }
    }

    @Test
    void missingDomainIsFoundBeforeAnythingIsWritten() throws IOException {
        TestDomains.cut(tmp.resolve("domains"), "computing", 12000, 1200);
        Path f = tmp.resolve("gap.yaml");
        Files.writeString(f, "model: " + CliTest.TINY + "\ntokenizer: " + CliTest.TOK
                + "\ndomains:\n  - domains/computing\n  - domains/legl\nout: gap-out\n"
                + "variants: [naive]\n");
        CliTest.userError(CliTest.run("run", f.toString(), "--quiet"), "gap.yaml:5",
                "domain folder not found", tmp.resolve("domains/legl").toString());
        assertFalse(Files.exists(tmp.resolve("gap-out")), "no run folder left behind");
    }

    @Test
    void aSweepOfMoreThanAHundredVariantsNeedsYes() throws IOException {
        TestDomains.cut(tmp.resolve("domains"), "computing", 12000, 1200);
        Path f = tmp.resolve("sweep.yaml");
        Files.writeString(f, "model: " + CliTest.TINY + "\ntokenizer: " + CliTest.TOK
                + "\ndomains: [domains/computing]\nout: sweep-out\nvariants:\n"
                + "  - ewc lambda=[1,2,3,4,5,6,7,8,9,10] gamma=[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,"
                + "0.9,1.0] samples=[1,2]\n");
        CliTest.userError(CliTest.run("run", f.toString(), "--quiet"), "sweep.yaml: expands to"
                + " 200 variants (more than 100)", "add --yes to run them all");
        assertFalse(Files.exists(tmp.resolve("sweep-out")), "nothing written");
    }

    @Test
    void anExperimentFolderHasOneWriter() throws IOException {
        TestDomains.cut(tmp.resolve("domains"), "computing", 12000, 1200);
        Path f = tmp.resolve("one.yaml");
        Files.writeString(f, "model: " + CliTest.TINY + "\ntokenizer: " + CliTest.TOK
                + "\ndomains: [domains/computing]\nout: one-out\nvariants: [naive]\n");
        Path out = tmp.resolve("one-out");
        try (var held = dev.retain.core.util.RunLock.acquire(out, "experiment folder")) {
            CliTest.userError(CliTest.run("run", f.toString(), "--quiet"), out + ": this"
                    + " experiment folder is being written by another process (process "
                    + ProcessHandle.current().pid() + ")");
        }
        assertFalse(Files.exists(out.resolve("naive")), "no variant was started");
    }

    @Test
    void missingExperimentFile() {
        CliTest.userError(CliTest.run("run", tmp.resolve("nope.yaml").toString()), "nope.yaml",
                "experiment file not found");
    }

    @Test
    void badExperimentFileIsOneLine() throws IOException {
        Path f = tmp.resolve("bad.yaml");
        Files.writeString(f, "model: m.pt\ndomains: [x]\nvariants: [naive]\nlearning_rate: 3\n");
        CliTest.userError(CliTest.run("run", f.toString()), "bad.yaml:4", "learning_rate");
    }
}
