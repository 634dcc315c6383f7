package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.Engines;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An experiment's variants run one after another, in parallel child processes ({@code --jobs}),
 * or as separate {@code --variant} processes (a job array) give the same numbers, the same
 * token detail and the same report; {@code --list}, {@code --variant} and {@code
 * --report-only} on their own.
 */
class RunVariantsTest {

    @TempDir Path tmp;

    private final ObjectMapper json = new ObjectMapper();
    private int threadsBefore;

    @BeforeEach
    void rememberThreads() {
        threadsBefore = Engines.threads();
    }

    @AfterEach
    void restoreThreads() {
        Engines.threads(threadsBefore); // --threads 1 here must not slow the other tests
    }

    private Path experiment(int steps) throws IOException {
        for (String n : new String[] {"computing", "scripture"}) {
            TestDomains.cut(tmp.resolve("domains"), n, 12000, 1200);
        }
        Path f = tmp.resolve("exp.yaml");
        Files.writeString(f, "model: " + CliTest.TINY + "\ntokenizer: " + CliTest.TOK
                + "\ndomains: [domains/computing, domains/scripture]\n"
                + "settings:\n  seq-len: 32\n  batch-size: 4\n  max-steps-per-domain: " + steps
                + "\n  fisher-samples: 4\n  replay-tokens: 1024\n  save-every: 2\n"
                + "  test-windows: 8\n  device: cpu\nvariants: [naive, ewc+replay]\n");
        return f;
    }

    private static List<String> javaMain(String... args) {
        List<String> cmd = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "-cp", System.getProperty("java.class.path"), "dev.retain.cli.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    @Test
    void serialJobsAndSeparateProcessesGiveTheSameNumbersAndReport() throws Exception {
        Path f = experiment(12);
        // 1. One process, one variant after the other (one libtorch thread, as each job has).
        CliTest.Run serial = CliTest.run("run", f.toString(), "--out", tmp.resolve("serial")
                .toString(), "--threads", "1", "--quiet");
        assertEquals(0, serial.code(), serial.err());

        // 2. --jobs 2 in a process of its own, stopped by SIGTERM once both variants have saved
        // a checkpoint; then the same command again (in this JVM) continues them.
        Path jobs = tmp.resolve("jobs");
        Process p = new ProcessBuilder(javaMain("run", f.toString(), "--out", jobs.toString(),
                "--jobs", "2", "--threads-per-job", "1", "--quiet")).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("jobs.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (!(Files.exists(jobs.resolve("naive/checkpoint.json"))
                && Files.exists(jobs.resolve("ewc+replay/checkpoint.json")))) {
            assertTrue(p.isAlive() && System.nanoTime() < deadline, "jobs ended early: "
                    + Files.readString(tmp.resolve("jobs.log")));
            Thread.sleep(20);
        }
        p.destroy();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        String log = Files.readString(tmp.resolve("jobs.log"));
        assertEquals(143, p.exitValue(), log);
        assertTrue(log.contains("[naive] ") && log.contains("[ewc+replay] "), "prefixed: " + log);
        assertTrue(log.contains("retain run: stopped; checkpoint saved; continue with: retain run "
                + f + " --out " + jobs), log);
        CliTest.Run listed = CliTest.run("run", f.toString(), "--out", jobs.toString(), "--list");
        assertEquals(0, listed.code(), listed.err());
        assertFalse(listed.out().contains("running"), "every job ended: " + listed.out());
        CliTest.Run resumed = CliTest.run("run", f.toString(), "--out", jobs.toString(),
                "--jobs", "2", "--threads-per-job", "1", "--quiet");
        assertEquals(0, resumed.code(), resumed.err());

        // 3. Two separate processes, one variant each, at the same time (as a job array runs
        // them: both need the base evaluation, one computes it), then --report-only.
        Path sep = tmp.resolve("separate");
        List<Process> tasks = new ArrayList<>();
        for (String v : new String[] {"0", "ewc+replay"}) {
            tasks.add(new ProcessBuilder(javaMain("run", f.toString(), "--out", sep.toString(),
                    "--variant", v, "--threads", "1", "--quiet")).redirectErrorStream(true)
                    .redirectOutput(tmp.resolve("task-" + tasks.size() + ".log").toFile())
                    .start());
        }
        for (int i = 0; i < tasks.size(); i++) {
            assertTrue(tasks.get(i).waitFor(240, TimeUnit.SECONDS));
            assertEquals(0, tasks.get(i).exitValue(), Files.readString(tmp.resolve("task-" + i
                    + ".log")));
        }
        assertFalse(Files.exists(sep.resolve("report")), "--variant writes no report");
        CliTest.Run report = CliTest.run("run", f.toString(), "--out", sep.toString(),
                "--report-only");
        assertEquals(0, report.code(), report.err());
        assertTrue(report.out().contains("avg final ppl"), report.out());
        assertEquals(1, json.readTree(sep.resolve("base-eval.json").toFile()).size(),
                "one base evaluation, shared");

        for (String v : new String[] {"naive", "ewc+replay"}) {
            JsonNode a = numbers(tmp.resolve("serial").resolve(v));
            assertEquals(a, numbers(jobs.resolve(v)), v + ": serial vs --jobs 2 (resumed)");
            assertEquals(a, numbers(sep.resolve(v)), v + ": serial vs separate --variant runs");
        }
        // The token detail of every evaluation (the base row's from the shared evaluation):
        // the same bytes however the variants ran, and the same base detail in each variant.
        byte[] base = Files.readAllBytes(tmp.resolve("serial/naive/token-detail/eval-0.tokd"));
        for (String v : new String[] {"naive", "ewc+replay"}) {
            for (int k = 0; k <= 2; k++) {
                String d = v + "/token-detail/eval-" + k + ".tokd";
                byte[] a = Files.readAllBytes(tmp.resolve("serial").resolve(d));
                assertTrue(Arrays.equals(a, Files.readAllBytes(jobs.resolve(d))), d + " --jobs");
                assertTrue(Arrays.equals(a, Files.readAllBytes(sep.resolve(d))), d + " --variant");
                if (k == 0) {
                    assertTrue(Arrays.equals(base, a), d + ": the shared base detail");
                }
            }
        }
        JsonNode r = report(tmp.resolve("serial"));
        assertEquals(r, report(jobs), "the same report, serial vs --jobs 2");
        assertEquals(r, report(sep), "the same report, serial vs --report-only");
    }

    /** What training computed: scores, curves, losses and drift (not times, not paths). */
    private JsonNode numbers(Path run) throws IOException {
        JsonNode r = json.readTree(run.resolve("results.json").toFile());
        ObjectNode out = json.createObjectNode();
        for (String k : new String[] {"scores", "curves", "losses", "drift", "status"}) {
            assertTrue(r.has(k), k);
            out.set(k, r.get(k));
        }
        return out;
    }

    /** report.json without what may differ: the time stamp, measured times, memory, folders. */
    private JsonNode report(Path out) throws IOException {
        String text = Files.readString(out.resolve("report/report.json"))
                .replace(out.toString(), "OUT");
        JsonNode r = json.readTree(text);
        strip(r);
        return r;
    }

    private static void strip(JsonNode n) {
        if (n.isObject()) {
            for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (k.equals("generated") || k.contains("seconds") || k.contains("wall")
                        || k.contains("rss") || k.contains("per_second") || k.equals("started")
                        || k.equals("finished") || k.equals("environment")) {
                    it.remove();
                } else {
                    strip(n.get(k));
                }
            }
        } else if (n.isArray()) {
            n.forEach(RunVariantsTest::strip);
        }
    }

    @Test
    void listVariantAndReportOnly() throws IOException {
        Path f = experiment(4);
        String out = tmp.resolve("x").toString();
        CliTest.Run list = CliTest.run("run", f.toString(), "--out", out, "--list");
        assertEquals(0, list.code(), list.err());
        String[] lines = list.out().split("\n");
        assertTrue(lines[0].matches("index\\s+name\\s+state\\s+folder"), lines[0]);
        assertTrue(lines[1].matches("\\s+0\\s+naive\\s+not started\\s+.*naive"), lines[1]);
        assertTrue(lines[2].matches("\\s+1\\s+ewc\\+replay\\s+not started\\s+.*ewc\\+replay"),
                lines[2]);
        assertFalse(Files.exists(Path.of(out)), "--list writes nothing");
        CliTest.userError(CliTest.run("run", f.toString(), "--out", out, "--report-only"),
                "no variant of exp.yaml has finished yet (naive (not started), ewc+replay (not"
                        + " started))");
        CliTest.userError(CliTest.run("run", f.toString(), "--out", out, "--variant", "2"),
                "--variant 2:", "has 2 variants, indices 0..1");
        CliTest.userError(CliTest.run("run", f.toString(), "--out", out, "--variant", "ewc"),
                "--variant ewc: no variant of that name", "its variants: naive, ewc+replay");
        CliTest.userError(CliTest.run("run", "--variant", "naive", f.toString()),
                "put the file before --variant");
        CliTest.userError(CliTest.run("run", f.toString(), "--devices", "0,x"),
                "'x' is not a GPU id");

        CliTest.Run one = CliTest.run("run", f.toString(), "--out", out, "--variant", "naive",
                "--quiet");
        assertEquals(0, one.code(), one.err());
        assertTrue(one.out().contains("naive: finished"), one.out());
        assertTrue(one.out().contains("report: not written for chosen variants"), one.out());
        assertFalse(Files.exists(Path.of(out, "ewc+replay")), "only the chosen variant ran");
        list = CliTest.run("run", f.toString(), "--out", out, "--list");
        assertTrue(list.out().matches("(?s).*0\\s+naive\\s+done.*1\\s+ewc\\+replay\\s+not"
                + " started.*"), list.out());
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream before = System.err;
        CliTest.Run report;
        System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            report = CliTest.run("run", f.toString(), "--out", out, "--report-only");
        } finally {
            System.setErr(before);
        }
        assertEquals(0, report.code(), report.err());
        assertTrue(err.toString(java.nio.charset.StandardCharsets.UTF_8).contains("the report"
                + " leaves out 1 of 2 variants that have not finished: ewc+replay (not"
                + " started)"), err.toString());
        JsonNode runs = json.readTree(Path.of(out, "report/report.json").toFile()).get("runs");
        assertEquals(1, runs.size(), "the report holds the finished variant only");
    }
}
