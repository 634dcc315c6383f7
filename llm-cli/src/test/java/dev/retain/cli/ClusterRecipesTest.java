package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.util.RepoPaths;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The cluster recipes (tools/slurm, tools/k8s) do what docs/EXPERIMENTS.md says: their shell commands are run
 * here as the scheduler would run them (a fake {@code sbatch} records the submissions; the array
 * task id and the completion index are set by hand), with {@code retain} being this build.
 */
class ClusterRecipesTest {

    @TempDir Path tmp;

    private Path bin;

    /** A two-variant experiment on one small domain, and {@code retain} on the PATH. */
    private Path setUp() throws IOException {
        TestDomains.cut(tmp.resolve("domains"), "computing", 12000, 1200);
        Path f = tmp.resolve("exp.yaml");
        Files.writeString(f, "model: " + CliTest.TINY + "\ntokenizer: " + CliTest.TOK
                + "\ndomains: [domains/computing]\nsettings:\n  seq-len: 32\n  batch-size: 4\n"
                + "  max-steps-per-domain: 3\n  test-windows: 4\n  device: cpu\n"
                + "variants: [naive, ewc]\n");
        bin = Files.createDirectories(tmp.resolve("bin"));
        script(bin.resolve("retain"), "#!/bin/sh\nexec '" + ProcessHandle.current().info()
                .command().orElse("java") + "' -cp '" + System.getProperty("java.class.path")
                + "' dev.retain.cli.Main \"$@\"\n");
        return f;
    }

    private static void script(Path p, String text) throws IOException {
        Files.writeString(p, text);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private record Done(int code, String out) {}

    private Done bash(Map<String, String> env, String... args) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(args).directory(tmp.toFile())
                .redirectErrorStream(true);
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(240, TimeUnit.SECONDS), out);
        return new Done(p.exitValue(), out);
    }

    @Test
    void slurmSubmitsAnArrayAndTheReportAfterIt() throws Exception {
        Path f = setUp();
        Path tools = RepoPaths.resolve("tools/slurm");
        for (String s : new String[] {"submit.sh", "run-experiment.sbatch"}) {
            assertEquals(0, bash(Map.of(), "bash", "-n", tools.resolve(s).toString()).code(), s);
        }
        Path log = tmp.resolve("sbatch.log");
        script(bin.resolve("sbatch"), "#!/bin/sh\necho \"$*\" >> '" + log + "'\n"
                + "echo \"$((4240 + $(wc -l < '" + log + "')));cluster\"\n");
        Path runs = tmp.resolve("runs");
        Done submit = bash(Map.of("RETAIN", bin.resolve("retain").toString()), "bash",
                tools.resolve("submit.sh").toString(), f.toString(), runs.toString(), "--",
                "--partition=test");
        assertEquals(0, submit.code(), submit.out());
        assertTrue(submit.out().contains("variants: job array 4241 (tasks 0-1); report: job"
                + " 4242"), submit.out());
        List<String> calls = Files.readAllLines(log);
        String sbatch = tools.resolve("run-experiment.sbatch").toString();
        assertEquals("--parsable --array=0-1 --export=ALL --partition=test " + sbatch + " " + f
                + " " + runs, calls.get(0));
        assertEquals("--parsable --dependency=afterany:4241 --export=ALL --partition=test "
                + sbatch + " " + f + " " + runs, calls.get(1));

        // Slurm runs array task 1 (the other is still queued), then the report job.
        Done task = bash(Map.of("SLURM_ARRAY_TASK_ID", "1", "SLURM_CPUS_PER_TASK", "1",
                "RETAIN", bin.resolve("retain").toString()), "bash", sbatch, f.toString(),
                runs.toString());
        assertEquals(0, task.code(), task.out());
        assertEquals("complete", status(runs.resolve("ewc")));
        assertTrue(Files.notExists(runs.resolve("naive")), "only task 1's variant ran");
        Done report = bash(Map.of("RETAIN", bin.resolve("retain").toString()), "bash", sbatch,
                f.toString(), runs.toString());
        assertEquals(0, report.code(), report.out());
        assertTrue(report.out().contains("leaves out 1 of 2 variants that have not finished:"
                + " naive (not started)"), report.out());
        assertTrue(Files.exists(runs.resolve("report/report.html")));
    }

    @Test
    void kubernetesIndexedJobRunsItsIndexAndTheReportJobReports() throws Exception {
        Path f = setUp();
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        JsonNode job = yaml.readTree(RepoPaths.resolve("tools/k8s/experiment-job.yaml").toFile());
        assertEquals("batch/v1", job.path("apiVersion").asText());
        assertEquals("Job", job.path("kind").asText());
        assertEquals("Indexed", job.at("/spec/completionMode").asText());
        assertTrue(job.at("/spec/completions").asInt() >= 1);
        assertEquals("Never", job.at("/spec/template/spec/restartPolicy").asText());
        Path runs = tmp.resolve("k8s-runs");
        Done pod = pod(job, Map.of("JOB_COMPLETION_INDEX", "0", "EXPERIMENT", f.toString(),
                "RUNS", runs.toString(), "THREADS", "1"));
        assertEquals(0, pod.code(), pod.out());
        assertEquals("complete", status(runs.resolve("naive")));
        assertTrue(Files.notExists(runs.resolve("ewc")), "only index 0's variant ran");

        JsonNode report = yaml.readTree(RepoPaths.resolve("tools/k8s/report-job.yaml").toFile());
        assertEquals("Job", report.path("kind").asText());
        Done r = pod(report, Map.of("EXPERIMENT", f.toString(), "RUNS", runs.toString()));
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("ewc (not started)"), r.out());
        assertTrue(Files.exists(runs.resolve("report/report.html")));
    }

    /** Runs a Job's container command with its env, some values replaced (paths, the index). */
    private Done pod(JsonNode job, Map<String, String> env) throws Exception {
        JsonNode c = job.at("/spec/template/spec/containers/0");
        Map<String, String> all = new java.util.HashMap<>();
        for (JsonNode e : c.path("env")) {
            all.put(e.get("name").asText(), e.get("value").asText());
        }
        for (String k : all.keySet()) {
            assertTrue(env.containsKey(k), "the test sets " + k);
        }
        all.putAll(env);
        List<String> cmd = new java.util.ArrayList<>();
        c.path("command").forEach(x -> cmd.add(x.asText()));
        assertEquals(List.of("bash", "-c"), cmd.subList(0, 2));
        return bash(all, cmd.toArray(new String[0]));
    }

    private static String status(Path run) throws IOException {
        return new ObjectMapper().readTree(run.resolve("results.json").toFile()).path("status")
                .asText();
    }
}
