package dev.retain.eval.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reports stay bounded: over {@link Report#MATRIX_LIMIT} tasks the task x task tables are left
 * out of report.md/html and results.csv keeps each matrix's base and final rows; every warning is
 * one readable line however many tasks it is about; fields of the wrong type are refused.
 */
class BoundedReportTest {

    @TempDir Path tmp;

    /** A run over n tasks of which {@code done} stages have scores. */
    private static ObjectNode run(int n, int done) {
        ObjectNode t = Fixtures.tree("naive");
        ArrayNode tasks = t.putArray("tasks");
        for (int j = 0; j < n; j++) {
            tasks.add("domain-" + j);
        }
        ObjectNode scores = t.putObject("scores");
        for (String m : List.of("perplexity", "mean_nll", "token_accuracy")) {
            ObjectNode o = scores.putObject(m);
            o.put("higher_is_better", m.equals("token_accuracy"));
            ArrayNode rows = o.putArray("rows");
            for (int k = 0; k <= done; k++) {
                ArrayNode row = rows.addArray();
                for (int j = 0; j < n; j++) {
                    double nll = 3 + ((k * 31 + j * 17) % 100) / 50.0;
                    row.add(m.equals("mean_nll") ? nll : m.equals("perplexity") ? Math.exp(nll)
                            : 0.2 + ((k + j) % 10) / 100.0);
                }
            }
        }
        ObjectNode stage = (ObjectNode) t.get("stages").get(0);
        ArrayNode stages = t.putArray("stages");
        ArrayNode bounds = t.putArray("boundaries");
        for (int k = 0; k < done; k++) {
            stages.add(stage.deepCopy().put("stage", k).put("task", "domain-" + k));
            bounds.add(k * 300L);
        }
        t.putArray("curves");
        t.put("status", done == n ? "complete" : "running");
        return t;
    }

    @Test
    void overTheLimitTheTaskByTaskTablesAreLeftOutAndTheCsvGrowsWithTheTasks()
            throws IOException {
        int n = Report.MATRIX_LIMIT + 6;
        Path dir = Fixtures.write(tmp, "wide", run(n, n));
        Report r = Report.load(List.of(dir), Report.GapSettings.DEFAULT);
        assertTrue(r.wide());
        assertEquals(List.of(n + " tasks: over " + Report.MATRIX_LIMIT + ", report.md and"
                + " report.html leave out the task x task tables and charts (score matrices,"
                + " curves, stability gap, drift) and results.csv keeps the base and final rows"
                + " of each matrix; report.json has every score"), r.warnings());
        Path out = tmp.resolve("out");
        ReportWriter.write(r, out);
        List<String> csv = Files.readAllLines(out.resolve(ReportWriter.CSV));
        for (String metric : List.of("perplexity", "mean_nll", "token_accuracy")) {
            List<String> rows = csv.stream().filter(l -> l.split(",")[6].equals(metric))
                    .toList();
            assertEquals(2 * n, rows.size(), metric + ": base and final rows, a value per task");
            assertTrue(rows.stream().allMatch(l -> l.split(",")[3].equals("-1")
                    || l.split(",")[3].equals(String.valueOf(n - 1))), metric);
        }
        String md = Files.readString(out.resolve(ReportWriter.MARKDOWN));
        assertFalse(md.contains("Perplexity R\\[k\\]\\[j\\] (rows"), "no score matrix table");
        assertTrue(md.contains(n + " tasks: the score matrices, heat maps, curves, stability gap"
                + " and drift tables are left out"), "and the reader is told");
        String json = Files.readString(out.resolve(ReportWriter.JSON));
        assertTrue(json.contains("domain-" + (n - 1)), "report.json keeps every score");
        // Under the limit nothing is left out.
        Path narrow = Fixtures.write(tmp, "narrow", run(5, 5));
        Report s = Report.load(List.of(narrow), Report.GapSettings.DEFAULT);
        ReportWriter.write(s, tmp.resolve("out2"));
        assertTrue(Files.readString(tmp.resolve("out2").resolve(ReportWriter.MARKDOWN))
                .contains("Perplexity R\\[k\\]\\[j\\] (rows"));
        assertEquals(6 * 5, Files.readAllLines(tmp.resolve("out2").resolve(ReportWriter.CSV))
                .stream().filter(l -> l.split(",")[6].equals("perplexity")).count());
    }

    @Test
    void aWarningAboutTenThousandTasksIsOneReadableLine() throws IOException {
        int n = 10_000;
        Path a = Fixtures.write(tmp, "a", run(n, 1));
        ObjectNode other = run(n, 1);
        ArrayNode tasks = (ArrayNode) other.get("tasks");
        ArrayNode reversed = other.putArray("tasks");
        for (int j = tasks.size() - 1; j >= 0; j--) {
            reversed.add(tasks.get(j));
        }
        Path b = Fixtures.write(tmp, "b", other);
        Report r = Report.load(List.of(a, b), Report.GapSettings.DEFAULT);
        assertTrue(r.warnings().size() >= 3, r.warnings().toString());
        for (String w : r.warnings()) {
            assertFalse(w.contains("\n"));
            assertTrue(w.length() < 400, w.length() + " chars: " + w);
        }
        assertTrue(r.warnings().contains("naive is still running: 1 of 10000 stages have scores;"
                + " missing: domain-1, domain-2, domain-3, domain-4, domain-5, domain-6,"
                + " domain-7, domain-8 and 9,991 more"), r.warnings().toString());
        // Runs over different tasks: the difference, not both lists.
        ObjectNode c = run(n, 1);
        ((ArrayNode) c.get("tasks")).set(5, c.textNode("extra"));
        Path cd = Fixtures.write(tmp, "c", c);
        String m = BadInputTest.userError(() -> Report.load(List.of(a, cd),
                Report.GapSettings.DEFAULT)).getMessage();
        assertTrue(m.length() < 400 && m.contains("(missing domain-5; not in it extra)"), m);
    }

    @Test
    void fieldsOfTheWrongTypeAreRefusedNotReadAsZero() throws IOException {
        ObjectNode t = Fixtures.tree("ewc");
        ((ObjectNode) t.get("stages").get(1)).put("steps", "six");
        Path a = Fixtures.write(tmp, "a", t);
        BadInputTest.userError(() -> Report.load(List.of(a), Report.GapSettings.DEFAULT),
                a.resolve("results.json") + ": stages[1].steps is \"six\", not a whole number");
        ObjectNode u = Fixtures.tree("ewc");
        ((ObjectNode) u.get("stages").get(0)).put("wall_seconds", "slow");
        Path b = Fixtures.write(tmp, "b", u);
        BadInputTest.userError(() -> Report.load(List.of(b), Report.GapSettings.DEFAULT),
                "stages[0].wall_seconds is \"slow\", not a number");
        ObjectNode v = Fixtures.tree("ewc");
        ((ObjectNode) v.get("scores").get("mean_nll")).put("higher_is_better", "no");
        Path c = Fixtures.write(tmp, "c", v);
        BadInputTest.userError(() -> Report.load(List.of(c), Report.GapSettings.DEFAULT),
                "scores.mean_nll.higher_is_better is \"no\", not true or false");
        ObjectNode w = Fixtures.tree("ewc");
        w.put("peak_rss_bytes", 1.5);
        Path d = Fixtures.write(tmp, "d", w);
        BadInputTest.userError(() -> Report.load(List.of(d), Report.GapSettings.DEFAULT),
                "peak_rss_bytes is 1.5, not a whole number");
    }
}
