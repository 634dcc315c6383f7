package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;


import dev.retain.eval.forgotten.RunDetail;
import dev.retain.eval.forgotten.TokenDetail;
import dev.retain.eval.forgotten.WindowDetail;
import dev.retain.eval.results.MetricsLog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code retain train} from the command line: kill -9 and resume (the same scores and token
 * detail), and bad input.
 */
class TrainCommandTest {

    @TempDir Path tmp;

    static final String TINY = CliTest.TINY;
    static final String TOK = CliTest.TOK;

    List<String> domains(int trainChars) throws IOException {
        List<String> out = new ArrayList<>();
        for (String n : new String[] {"computing", "scripture"}) {
            out.add(TestDomains.cut(tmp.resolve("domains"), n, trainChars, 1500).toString());
        }
        return out;
    }

    List<String> trainArgs(Path out, List<String> doms) {
        List<String> a = new ArrayList<>(List.of("train", "--model", TINY, "--tokenizer", TOK,
                "--strategy", "ewc+replay", "--out", out.toString(), "--max-steps-per-domain",
                "25", "--batch-size", "4", "--seq-len", "32", "--save-every", "3",
                "--fisher-samples", "4", "--replay-tokens", "1024", "--device", "cpu",
                "--quiet", "--domains"));
        a.addAll(doms);
        return a;
    }

    @Test
    void killNineMidDomainThenResumeMatchesUninterruptedRun() throws Exception {
        List<String> doms = domains(20000);
        Path full = tmp.resolve("full");
        CliTest.Run r = CliTest.run(trainArgs(full, doms).toArray(String[]::new));
        assertEquals(0, r.code(), r.err());

        Path cut = tmp.resolve("cut");
        Process p = child(trainArgs(cut, doms), tmp.resolve("child.log"));
        Path ptr = cut.resolve("checkpoint.json");
        ObjectMapper json = new ObjectMapper();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        // Wait until the child is inside the second domain, past a checkpoint, then SIGKILL it.
        while (System.nanoTime() < deadline) {
            if (Files.exists(ptr)) {
                JsonNode n = json.readTree(ptr.toFile());
                if (n.get("global_step").asInt() >= 30) {
                    break;
                }
            }
            assertTrue(p.isAlive(), "child ended early: " + Files.readString(
                    tmp.resolve("child.log")));
            Thread.sleep(50);
        }
        p.destroyForcibly(); // SIGKILL: no shutdown hook runs
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        JsonNode before = json.readTree(cut.resolve("results.json").toFile());
        assertEquals("running", before.get("status").asText());
        // The killed child's lock file still names it: a stale lock, which the resume takes over.
        assertEquals(String.valueOf(p.pid()), Files.readString(cut.resolve(".lock")));

        long loggedBefore = MetricsLog.read(cut).stream()
                .filter(l -> l.get("type").asText().equals("step")).count();
        long checkpointed = json.readTree(ptr.toFile()).get("global_step").asLong();
        assertTrue(loggedBefore >= checkpointed, loggedBefore + " steps logged, checkpoint at "
                + checkpointed);

        CliTest.Run resumed = CliTest.run("train", "--resume", cut.toString(), "--quiet");
        assertEquals(0, resumed.code(), resumed.err());
        // metrics.jsonl: every step once, in order (the steps after the checkpoint were cut from
        // the log and logged again when repeated), and the same evaluations as the full run's.
        List<JsonNode> logFull = MetricsLog.read(full);
        List<JsonNode> logCut = MetricsLog.read(cut);
        List<Long> steps = logCut.stream().filter(l -> l.get("type").asText().equals("step"))
                .map(l -> l.get("step").asLong()).toList();
        assertEquals(java.util.stream.LongStream.rangeClosed(1, 50).boxed().toList(), steps,
                "no gap, no duplicate");
        assertEquals(logFull.size(), logCut.size());
        for (int i = 0; i < logFull.size(); i++) {
            JsonNode x = logFull.get(i);
            JsonNode y = logCut.get(i);
            for (String k : new String[] {"type", "step", "stage", "domain", "split"}) {
                assertEquals(x.get(k), y.get(k), "line " + (i + 1) + " " + k);
            }
            String v = x.has("loss") ? "loss" : "mean_nll";
            assertEquals(x.get(v).asDouble(), y.get(v).asDouble(), 1e-4 * x.get(v).asDouble(),
                    "line " + (i + 1) + " " + v);
        }
        JsonNode a = json.readTree(full.resolve("results.json").toFile()).get("scores");
        JsonNode b = json.readTree(cut.resolve("results.json").toFile()).get("scores");
        JsonNode ra = a.get("perplexity").get("rows");
        JsonNode rb = b.get("perplexity").get("rows");
        assertEquals(3, rb.size());
        for (int k = 0; k < 3; k++) {
            for (int j = 0; j < 2; j++) {
                double x = ra.get(k).get(j).asDouble();
                double y = rb.get(k).get(j).asDouble();
                assertTrue(Math.abs(x / y - 1) < 1e-4, "R[" + k + "][" + j + "] " + x + " vs "
                        + y);
            }
        }
        // The token detail of each evaluation: the same windows and tokens, the same NLLs.
        for (int k = 0; k < 3; k++) {
            TokenDetail x = TokenDetail.read(RunDetail.file(full, k));
            TokenDetail y = TokenDetail.read(RunDetail.file(cut, k));
            for (int j = 0; j < 2; j++) {
                List<WindowDetail> wx = x.domains().get(j).windows();
                List<WindowDetail> wy = y.domains().get(j).windows();
                assertEquals(wx.size(), wy.size());
                for (int w = 0; w < wx.size(); w++) {
                    assertTrue(wx.get(w).sameWindow(wy.get(w)), "eval-" + k + " window " + w);
                    for (int i = 0; i < wx.get(w).scored(); i++) {
                        assertEquals(wx.get(w).nll()[i], wy.get(w).nll()[i], 1e-3,
                                "eval-" + k + " window " + w + " token " + i);
                    }
                }
            }
        }
        assertFalse(Files.exists(RunDetail.file(cut, 3)));
    }

    /** Starts {@code retain train} in a child JVM (a real second process). */
    Process child(List<String> args, Path log) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "-cp", System.getProperty("java.class.path"), "dev.retain.cli.Main"));
        cmd.addAll(args);
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .start();
    }

    @Test
    void aSecondProcessCannotWriteARunFolderThatAnotherWrites() throws Exception {
        List<String> doms = domains(20000);
        Path run = tmp.resolve("run");
        List<String> args = trainArgs(run, doms);
        args.set(args.indexOf("25"), "100");
        Path log = tmp.resolve("child.log");
        Process p = child(args, log);
        Path lock = run.resolve(".lock");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (!(Files.exists(run.resolve("run.json")) && Files.exists(lock)
                && Files.readString(lock).equals(String.valueOf(p.pid())))) {
            assertTrue(p.isAlive() && System.nanoTime() < deadline, Files.readString(log));
            Thread.sleep(50);
        }
        String holder = run + ": this run folder is being written by another process (process "
                + p.pid() + ")";
        // Another start with other settings, and a resume, while the child trains: refused.
        List<String> second = trainArgs(run, doms);
        second.addAll(List.of("--learning-rate", "0.01"));
        CliTest.userError(CliTest.run(second.toArray(String[]::new)), "already holds a run");
        CliTest.userError(CliTest.run("train", "--resume", run.toString(), "--quiet"), holder);
        assertTrue(p.isAlive(), "the refusals did not disturb the writer");
        // SIGTERM: the child saves a checkpoint and says how to continue.
        p.destroy();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        String out = Files.readString(log);
        assertTrue(out.contains("retain train: stopped; checkpoint saved; continue with: retain"
                + " train --resume " + run), out);
        assertTrue(Files.exists(run.resolve("checkpoint.json")), out);
        assertEquals(0, Files.size(lock), "the lock was released (no process id left)");
    }

    @Test
    void badInputOneLineEach() throws IOException {
        List<String> doms = domains(4000);
        List<String> a = trainArgs(tmp.resolve("x"), doms);
        a.set(a.indexOf("ewc+replay"), "si");
        CliTest.userError(CliTest.run(a.toArray(String[]::new)), "unknown strategy 'si'");
        a = trainArgs(tmp.resolve("x"), doms);
        a.addAll(List.of("--ewc-lambda", "-1"));
        CliTest.userError(CliTest.run(a.toArray(String[]::new)), "ewc-lambda", "greater than 0");
        a = trainArgs(tmp.resolve("x"), List.of(tmp.resolve("nowhere").toString()));
        CliTest.userError(CliTest.run(a.toArray(String[]::new)), "nowhere", "not found");
        CliTest.userError(CliTest.run("train", "--resume", tmp.toString()), "holds no retain run");
        a = trainArgs(tmp.resolve("x"), List.of(doms.get(0), doms.get(0)));
        CliTest.userError(CliTest.run(a.toArray(String[]::new)), "listed twice");
    }

    @Test
    void streamTrainsTheSourcesAsOnePassWithoutBoundaries() throws Exception {
        List<String> doms = domains(6000);
        Path out = tmp.resolve("stream");
        List<String> a = new ArrayList<>(List.of("train", "--model", TINY, "--tokenizer", TOK,
                "--strategy", "ewc", "--out", out.toString(), "--batch-size", "4", "--seq-len",
                "32", "--fisher-samples", "4", "--device", "cpu", "--quiet", "--stream"));
        a.addAll(doms);
        CliTest.Run r = CliTest.run(a.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        JsonNode res = new ObjectMapper().readTree(out.resolve("results.json").toFile());
        assertTrue(res.get("config").get("task-free").asBoolean());
        assertEquals(1.0, res.get("config").get("epochs").asDouble(), "one pass by default");
        assertEquals("constant", res.get("config").get("schedule").asText());
        assertEquals("plateau", res.get("stream").get("consolidate").asText());
        // --domains and --stream together, and a bad rule: one line each, exit 2.
        List<String> both = new ArrayList<>(a);
        both.set(both.indexOf("--out") + 1, tmp.resolve("both").toString());
        both.add("--domains");
        both.add(doms.get(0));
        r = CliTest.run(both.toArray(String[]::new));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--domains (learned in turn) or --stream"), r.err());
        List<String> bad = new ArrayList<>(a);
        bad.set(bad.indexOf("--out") + 1, tmp.resolve("bad").toString());
        bad.addAll(bad.indexOf("--stream"), List.of("--consolidate", "every:x"));
        r = CliTest.run(bad.toArray(String[]::new));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("consolidate 'every:x'"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}
