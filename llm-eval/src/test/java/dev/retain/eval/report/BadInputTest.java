package dev.retain.eval.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Bad input: one clear line naming the file, what is wrong and what to do; or a partial report. */
class BadInputTest {

    @TempDir Path tmp;

    /** Asserts a UserError whose message is one line containing every fragment. */
    static UserError userError(Executable e, String... fragments) {
        UserError err = assertThrows(UserError.class, e);
        assertFalse(err.getMessage().contains("\n"), "one line: " + err.getMessage());
        for (String f : fragments) {
            assertTrue(err.getMessage().contains(f), "'" + f + "' in: " + err.getMessage());
        }
        return err;
    }

    private static Report load(Path... dirs) {
        return Report.load(List.of(dirs), Report.GapSettings.DEFAULT);
    }

    @Test
    void directoryWithoutResults() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("not-a-run"));
        UserError e = userError(() -> load(empty));
        assertEquals(empty + ": no results.json: is it a retain run directory? run retain train"
                + " first", e.getMessage());
        userError(() -> load(tmp.resolve("nowhere")), "nowhere", "no such directory");
    }

    @Test
    void halfWrittenResultsFromAKilledRun() throws IOException {
        String full = Files.readString(Fixtures.run("ewc").resolve("results.json"));
        Path run = Files.createDirectories(tmp.resolve("killed"));
        Path file = run.resolve("results.json");
        Files.writeString(file, full.substring(0, full.length() / 2));
        userError(() -> load(run), file.toString(), "not valid JSON", "line ",
                "rerun retain train");
        Files.writeString(file, "");
        userError(() -> load(run), file.toString(), "empty");
        Files.writeString(file, "{\"schema\": \"retain.results/1\", \"tasks\": [\"a\"]}");
        userError(() -> load(run), file.toString(), "scores");
    }

    @Test
    void wrongSchemaOrDamagedFields() throws IOException {
        ObjectNode t = Fixtures.tree("ewc");
        t.put("schema", "retain.results/9");
        Path a = Fixtures.write(tmp, "a", t);
        userError(() -> load(a), "results.json", "retain.results/9", "retain.results/1");
        ObjectNode u = Fixtures.tree("ewc");
        ((ArrayNode) u.get("scores").get("mean_nll").get("rows").get(2)).remove(0);
        Path b = Fixtures.write(tmp, "b", u);
        userError(() -> load(b), "results.json", "scores.mean_nll.rows[2]", "4 numbers");
        ObjectNode v = Fixtures.tree("ewc");
        ((ArrayNode) v.get("tasks")).add("computing");
        Path c = Fixtures.write(tmp, "c", v);
        userError(() -> load(c), "computing", "listed twice");
        // Scores outside what the metric can be: a negative perplexity, an accuracy above 1.
        ObjectNode w = Fixtures.tree("ewc");
        ((ArrayNode) w.get("scores").get("perplexity").get("rows").get(1)).set(0,
                w.numberNode(-5.0));
        Path d = Fixtures.write(tmp, "d", w);
        userError(() -> load(d), "scores.perplexity.rows[1][0] is -5.0, but a perplexity is at"
                + " least 1");
        ObjectNode x = Fixtures.tree("ewc");
        ((ArrayNode) x.get("scores").get("token_accuracy").get("rows").get(0)).set(1,
                x.numberNode(1.5));
        Path e = Fixtures.write(tmp, "e", x);
        userError(() -> load(e), "scores.token_accuracy.rows[0][1] is 1.5, but an accuracy lies"
                + " between 0 and 1");
    }

    @Test
    void runStillRunningIsReportedAsFarAsItGot() throws IOException {
        Report r = load(Fixtures.run("naive"), Fixtures.run("ewc"), Fixtures.run("running"));
        RunReport running = r.runs().get(2);
        assertEquals(List.of("code", "scripture"), running.missingStages());
        assertEquals(2, running.primary().stage());
        assertTrue(r.warnings().stream().anyMatch(w -> w.contains("ewc-running is still running")
                && w.contains("2 of 4 stages") && w.contains("missing: code, scripture")),
                r.warnings().toString());
        // Incomplete runs are not ranked and not compared with naive.
        assertEquals(List.of("ewc", "naive"), r.ranking().stream().map(Report.Rank::run)
                .toList());
        assertTrue(r.notRanked().get(0).startsWith("ewc-running: incomplete"));
        assertTrue(running.vsBaseline().isEmpty());
        // Its curves reach step 700: the stability gap at 300 and 600 is measured.
        assertTrue(running.stabilityGap().stream().anyMatch(g -> g.boundary() == 600));
        Path out = tmp.resolve("out");
        ReportWriter.write(r, out);
        JsonNode json = ReportWriterTest.validJson(out);
        JsonNode run = json.get("runs").get(2);
        assertEquals("running", run.get("status").asText());
        assertEquals(2, run.get("stages_done").asInt());
        assertEquals("code", run.get("missing_stages").get(0).asText());
        assertTrue(Files.readString(out.resolve("report.md")).contains(
                "**Warning:** ewc-running is still running: 2 of 4 stages have scores; missing:"
                        + " code, scripture"));
        assertTrue(ReportWriter.comparisonTable(r).contains("2/4"));
    }

    @Test
    void runKilledBeforeItsFirstStageFinished() throws IOException {
        for (int rows : new int[] {1, 0}) {
            ObjectNode t = Fixtures.tree("running");
            for (String m : new String[] {"perplexity", "mean_nll", "token_accuracy"}) {
                ArrayNode r = (ArrayNode) t.get("scores").get(m).get("rows");
                while (r.size() > rows) {
                    r.remove(r.size() - 1);
                }
            }
            t.putArray("stages");
            ((ArrayNode) t.get("drift").get("rows")).removeAll();
            Path run = Fixtures.write(tmp, "early-" + rows, t);
            Report r = load(run);
            assertEquals(List.of("computing", "legal", "code", "scripture"),
                    r.runs().get(0).missingStages());
            Path out = tmp.resolve("out-" + rows);
            ReportWriter.write(r, out);
            ReportWriterTest.validJson(out);
            assertTrue(ReportWriter.comparisonTable(r).contains("0/4"));
        }
    }

    @Test
    void runsOverDifferentDomainsAreRefused() throws IOException {
        ObjectNode other = Fixtures.tree("ewc");
        Fixtures.rename(other, "scripture", "medicine");
        Path b = Fixtures.write(tmp, "other", other);
        Path a = Fixtures.run("naive");
        userError(() -> load(a, b), b.resolve("results.json").toString(),
                a.resolve("results.json").toString(), "medicine", "same domains",
                "report them separately");
    }

    @Test
    void sameDomainsInAnotherOrderAreComparedByName() throws IOException {
        ObjectNode t = Fixtures.tree("ewc");
        ArrayNode tasks = (ArrayNode) t.get("tasks");
        // Same four domains, listed in another training order (the matrices are reused as is:
        // this checks the bookkeeping, not the numbers).
        t.set("tasks", Fixtures.MAPPER.createArrayNode().add("legal").add("computing")
                .add("code").add("scripture"));
        assertEquals(4, tasks.size());
        Path b = Fixtures.write(tmp, "reordered", t);
        Report r = load(Fixtures.run("naive"), b);
        assertTrue(r.warnings().stream().anyMatch(w -> w.contains("different order")));
        assertEquals(List.of("computing", "legal", "code", "scripture"), r.tasks());
        ReportWriter.write(r, tmp.resolve("out"));
    }

    @Test
    void classifierAndLanguageModelRunsAreNotMixed() {
        userError(() -> load(Fixtures.run("naive"), Fixtures.run("classifier-ewc")),
                "classifier", "lm", "report them separately");
    }

    @Test
    void sameDirectoryTwiceAndNoDirectory() {
        userError(() -> load(Fixtures.run("naive"), Fixtures.run("naive")), "listed twice");
        userError(() -> Report.load(List.of(), Report.GapSettings.DEFAULT), "no run directory");
    }

    @Test
    void outputThatIsAFile() throws IOException {
        Path file = Files.writeString(tmp.resolve("taken"), "x");
        userError(() -> ReportWriter.writeRuns(List.of(Fixtures.run("naive")), file,
                Report.GapSettings.DEFAULT), "taken", "not a folder");
    }

    @Test
    void settingsOutOfRange() {
        userError(() -> new Report.GapSettings(0, 0.01), "--stability-window");
        userError(() -> new Report.GapSettings(0.25, -1), "--recovery-tolerance");
    }
}
