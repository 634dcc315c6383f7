package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.util.RepoPaths;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code retain eval --tasks}: the table, --json, the report, and bad task lines. */
class EvalTasksTest {

    @TempDir Path tmp;

    private static String task(String name) {
        return RepoPaths.resolve("datasets/tasks", name).toString();
    }

    /** The PyTorch reference's result for a case of datasets/tasks/reference.json. */
    private static JsonNode reference(String model, String task, int shots) throws IOException {
        for (JsonNode c : new ObjectMapper().readTree(RepoPaths.resolve(
                "datasets/tasks/reference.json").toFile())) {
            if (c.get("model").asText().equals(model) && c.get("task").asText().equals(task)
                    && c.get("num_fewshot").asInt() == shots && c.get("limit").asInt() == 0) {
                return c.get("result");
            }
        }
        throw new AssertionError("no reference case " + model + " " + task);
    }

    @Test
    void tasksAloneGiveTheTableJsonAndReport() throws IOException {
        Path json = tmp.resolve("eval.json");
        Path rep = tmp.resolve("report");
        CliTest.Run r = CliTest.run("eval", "--model", CliTest.TINY, "--tokenizer", CliTest.TOK,
                "--tasks", task("choice.jsonl"), task("rolling.txt"), "--json", json.toString(),
                "--report", rep.toString(), "--quiet");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("choice ")
                && l.contains("multiple_choice") && l.contains(" 40 ")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("rolling ")
                && l.contains("loglikelihood_rolling")), r.out());
        JsonNode tasks = new ObjectMapper().readTree(json.toFile()).get("tasks");
        assertEquals(2, tasks.size());
        // the numbers are PyTorch's (tools/reference_tasks.py on the same files)
        JsonNode choice = reference("tiny", "choice.jsonl", 0).get("metrics");
        assertEquals(choice.get("acc").asDouble(), tasks.get(0).get("acc").asDouble(), 0.0);
        assertEquals(choice.get("acc_norm").asDouble(), tasks.get(0).get("acc_norm").asDouble(),
                0.0);
        assertEquals(40, tasks.get(0).get("examples").asInt());
        assertTrue(tasks.get(0).get("acc_stderr").asDouble() > 0);
        JsonNode rolling = reference("tiny", "rolling.txt", 0).get("metrics");
        assertEquals(rolling.get("bits_per_byte").asDouble(),
                tasks.get(1).get("bits_per_byte").asDouble(),
                3e-5 * rolling.get("bits_per_byte").asDouble());
        assertTrue(tasks.get(1).get("word_perplexity_stderr").isNull());
        JsonNode report = new ObjectMapper().readTree(rep.resolve("report.json").toFile());
        try (InputStream in = Files.newInputStream(RepoPaths.resolve("docs",
                "report-schema.json"))) {
            var errors = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
                    .getSchema(in).validate(report);
            assertTrue(errors.isEmpty(), "report.json against the schema: " + errors);
        }
        JsonNode probes = report.get("runs").get(0).get("eval_tasks").get("tasks");
        assertEquals("choice", probes.get(0).get("name").asText());
        assertEquals(tasks.get(0).get("acc").asDouble(),
                probes.get(0).get("rows").get(0).get("acc").asDouble(), 0.0);
        assertTrue(Files.readString(rep.resolve("report.md")).contains("Task probes (0-shot)"));
    }

    @Test
    void aBadTaskLineIsOneLineNamingFileAndLineAndExitTwo() throws IOException {
        Path f = tmp.resolve("bad.jsonl");
        Files.writeString(f, "{\"context\": \"a\", \"choices\": [\"b\", \"c\"], \"gold\": 0}\n"
                + "{\"context\": \"a\", \"choices\": [\"b\", \"c\"], \"gold\": 2}\n");
        CliTest.Run r = CliTest.run("eval", "--model", CliTest.TINY, "--tokenizer", CliTest.TOK,
                "--tasks", f.toString(), "--quiet");
        assertEquals(2, r.code());
        assertEquals("retain eval: error: " + f + ":2: \"gold\" 2 is out of range: 2 choices,"
                + " so 0 to 1 (read as multiple_choice)", r.err().strip());
        r = CliTest.run("eval", "--model", CliTest.TINY, "--tokenizer", CliTest.TOK,
                "--tasks", f.toString(), "--task-format", "squad", "--quiet");
        assertEquals(2, r.code());
        assertTrue(r.err().strip().startsWith("retain eval: error: --task-format squad: expected"
                + " one of auto, multiple_choice"), r.err());
        r = CliTest.run("eval", "--model", CliTest.TINY, "--tokenizer", CliTest.TOK, "--quiet");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--domains or --tasks is required"), r.err());
    }
}
