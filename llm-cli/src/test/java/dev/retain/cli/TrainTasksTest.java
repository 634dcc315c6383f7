package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.util.RepoPaths;
import dev.retain.eval.results.RunResults;
import dev.retain.eval.results.TaskScores;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code --eval-tasks} in a run: the base row is {@code retain eval --tasks} on the base model,
 * one row follows every stage (results.json, metrics.jsonl, the report's table and column), and
 * an experiment file's task files are relative to it.
 */
class TrainTasksTest {

    @TempDir Path tmp;

    private static final String CHOICE = RepoPaths.resolve("datasets/tasks/choice.jsonl")
            .toString();
    private static final String ROLLING = RepoPaths.resolve("datasets/tasks/rolling.txt")
            .toString();
    private static final String LAMBADA = RepoPaths.resolve("datasets/tasks/samples/lambada.jsonl")
            .toString();

    @Test
    void theBaseRowIsRetainEvalTasksOnTheBaseModelAndEveryStageAddsOne() throws IOException {
        Path doms = tmp.resolve("domains");
        Path a = TestDomains.cut(doms, "computing", 6000, 1200);
        Path b = TestDomains.cut(doms, "legal", 6000, 1200);
        Path run = tmp.resolve("run");
        String[] tasks = {"--eval-tasks", CHOICE, ROLLING, LAMBADA, "--task-format", "auto",
            "auto", "lambada", "--task-limit", "12", "--num-fewshot", "1"};
        CliTest.Run t = CliTest.run(concat(new String[] {"train", "--model", CliTest.TINY,
            "--tokenizer", CliTest.TOK, "--domains", a.toString(), b.toString(), "--strategy",
            "naive", "--seq-len", "32", "--batch-size", "2", "--max-steps-per-domain", "2",
            "--test-windows", "1", "--out", run.toString(), "--quiet"}, tasks));
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("task probes (acc; word perplexity for rolling tasks)"),
                t.out());
        Path json = tmp.resolve("eval.json");
        CliTest.Run e = CliTest.run("eval", "--model", CliTest.TINY, "--tokenizer", CliTest.TOK,
                "--tasks", CHOICE, ROLLING, LAMBADA, "--task-format", "auto", "auto", "lambada",
                "--task-limit", "12", "--num-fewshot", "1", "--json", json.toString(), "--quiet");
        assertEquals(0, e.code(), e.err());
        JsonNode eval = new ObjectMapper().readTree(json.toFile()).get("tasks");

        RunResults res = RunResults.load(run);
        TaskScores ts = res.taskScores();
        assertEquals(3, ts.tasks().size());
        assertEquals(1, ts.numFewshot());
        assertEquals(12, ts.limit());
        for (int i = 0; i < 3; i++) {
            TaskScores.Probe p = ts.tasks().get(i);
            assertEquals(eval.get(i).get("name").asText(), p.name());
            assertEquals(3, p.rows().size(), "base and two stages: " + p.name());
            // row 0 = retain eval --tasks on the base model, every metric and stderr exactly
            Map<String, Double> base = p.rows().get(0);
            assertTrue(base.size() >= 4, base.toString());
            for (Map.Entry<String, Double> m : base.entrySet()) {
                JsonNode want = eval.get(i).get(m.getKey());
                if (want.isNull()) {
                    assertEquals(null, m.getValue(), p.name() + " " + m.getKey());
                } else {
                    assertEquals(want.asDouble(), m.getValue(), 0.0, p.name() + " " + m.getKey());
                }
            }
        }
        // the model trained: the rolling task's word perplexity moved after the first stage
        assertTrue(!ts.tasks().get(1).value(1, "word_perplexity")
                .equals(ts.tasks().get(1).value(0, "word_perplexity")));
        List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
        long taskLines = lines.stream().filter(l -> l.contains("\"task\":\"choice\"")).count();
        assertEquals(3, taskLines, "one metrics.jsonl line per evaluation of the task");
        assertTrue(lines.stream().anyMatch(l -> l.contains("\"stage\":null,\"task\":\"lambada\"")
                && l.contains("\"perplexity_stderr\"")));

        Path rep = tmp.resolve("report");
        CliTest.Run r = CliTest.run("report", run.toString(), "--out", rep.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("task accuracy vs base"), r.out());
        String md = Files.readString(rep.resolve("report.md"));
        assertTrue(md.contains("| after | choice acc | rolling word perplexity | lambada acc |"),
                md);
        JsonNode report = new ObjectMapper().readTree(rep.resolve("report.json").toFile());
        assertEquals(3, report.get("runs").get(0).get("eval_tasks").get("tasks").get(0)
                .get("rows").size());
    }

    @Test
    void anExperimentFilesTaskFilesAreRelativeToIt() throws IOException {
        for (String n : new String[] {"computing", "scripture"}) {
            TestDomains.cut(tmp.resolve("domains"), n, 6000, 1200);
        }
        Files.createDirectories(tmp.resolve("probes"));
        Files.copy(Path.of(CHOICE), tmp.resolve("probes/choice.jsonl"));
        Path f = tmp.resolve("x.yaml");
        Files.writeString(f, "model: " + CliTest.TINY + "\ntokenizer: " + CliTest.TOK
                + "\ndomains: [domains/computing, domains/scripture]\nout: x-out\n"
                + "settings:\n  seq-len: 32\n  batch-size: 2\n  max-steps-per-domain: 1\n"
                + "  test-windows: 1\n  eval-tasks: [probes/choice.jsonl]\n  task-limit: 8\n"
                + "  device: cpu\nvariants: [naive]\n");
        CliTest.Run r = CliTest.run("run", f.toString(), "--quiet");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("task accuracy vs base"), r.out());
        TaskScores ts = RunResults.load(tmp.resolve("x-out/naive")).taskScores();
        assertEquals(tmp.resolve("probes/choice.jsonl").toString(), ts.tasks().get(0).file());
        assertEquals(3, ts.tasks().get(0).rows().size());
        // a bad line stops the experiment before any variant runs, naming file and line
        Files.writeString(tmp.resolve("probes/choice.jsonl"), "{\"context\": 1, \"choices\":"
                + " [\"a\"], \"gold\": 0}\n");
        CliTest.Run bad = CliTest.run("run", f.toString(), "--quiet");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("probes/choice.jsonl:1: \"context\" must be a string, not a"
                + " number"), bad.err());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

}
