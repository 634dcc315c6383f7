package dev.retain.eval.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.text.GptTokenizer;
import dev.retain.core.util.RepoPaths;
import dev.retain.eval.forgotten.DomainDetail;
import dev.retain.eval.forgotten.RunDetail;
import dev.retain.eval.forgotten.TokenDetail;
import dev.retain.eval.forgotten.WindowDetail;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The report with runs that kept token detail and prompts' continuations: it opens with the most
 * forgotten passage of the first domain, then the comparison, forgetting per domain, what was
 * forgotten, the model's own words, then each run (its settings folded); hostile domain text is
 * escaped there as everywhere, and the page passes the Chromium check.
 */
class ForgottenReportTest {

    @TempDir Path tmp;

    static final Path MICRO = RepoPaths.resolve("datasets", "models", "micro-untied",
            "tokenizer.json");

    /** Detail of two windows of {@code text} for rows 1..4, the NLL rising with the row. */
    static void writeDetail(Path run, List<String> tasks, String text, double rise)
            throws IOException {
        int[] ids;
        try (GptTokenizer tok = GptTokenizer.load(MICRO)) {
            ids = java.util.Arrays.stream(tok.encode(text)).mapToInt(x -> (int) x).toArray();
        }
        for (int row = 1; row <= tasks.size(); row++) {
            Random r = new Random(11);
            List<DomainDetail> domains = new ArrayList<>();
            for (String task : tasks) {
                List<WindowDetail> ws = new ArrayList<>();
                for (int w = 0; w < 2; w++) {
                    float[] nll = new float[ids.length - 1];
                    int[] top = new int[nll.length];
                    for (int i = 0; i < nll.length; i++) {
                        nll[i] = (float) (2 * r.nextDouble() + rise * (row - 1) * r.nextDouble()
                                * (w + 1));
                        top[i] = r.nextInt(3) == 0 ? ids[i + 1] : 1;
                    }
                    ws.add(new WindowDetail((long) w * ids.length, 1, ids, nll, top));
                }
                domains.add(new DomainDetail(task, 2, 2L * (ids.length - 1), 0, ws));
            }
            new TokenDetail("stage", "test", ids.length, 257, domains).write(
                    RunDetail.file(run, row));
        }
        Files.writeString(run.resolve("run.json"), "{\"tokenizer\": \""
                + MICRO.toAbsolutePath() + "\"}");
    }

    static ObjectNode withGenerations(ObjectNode t, String prompt) {
        ObjectNode g = t.putObject("generations");
        g.put("sampling", "greedy");
        g.put("max_new_tokens", 40);
        g.putArray("prompts").add(prompt);
        ArrayNode rows = g.putArray("rows");
        for (int k = 0; k <= 4; k++) {
            ObjectNode r = rows.addObject();
            r.put("row", k);
            r.put("model", k == 0 ? "base model" : "after " + t.get("tasks").get(k - 1).asText());
            r.putArray("continuations").add(" said " + k + "\n" + ReportWriterTest.XSS);
            r.putArray("ids").addArray().add(1);
        }
        return t;
    }

    Path twoRuns(String text) throws IOException {
        ObjectNode a = withGenerations(ReportWriterTest.hostile("naive"), "The court");
        ObjectNode b = withGenerations(ReportWriterTest.hostile("ewc-replay"), "The court");
        Path ra = Fixtures.write(tmp, "a", a);
        Path rb = Fixtures.write(tmp, "b", b);
        List<String> tasks = new ArrayList<>();
        a.get("tasks").forEach(x -> tasks.add(x.asText()));
        writeDetail(ra, tasks, text, 1.0);
        writeDetail(rb, tasks, text, 0.3);
        Path out = tmp.resolve("report");
        ReportWriter.writeRuns(List.of(ra, rb), out, Report.GapSettings.DEFAULT);
        return out;
    }

    @Test
    void theReportOpensWithTheMostForgottenPassageAndReadsInTheOrderAUserLooks()
            throws IOException {
        Path out = twoRuns("The court held that the contract was void, and the appeal"
                + " failed at last.");
        String html = Files.readString(out.resolve("report.html"), StandardCharsets.UTF_8);
        List<String> order = List.of("id=\"most-forgotten\"", "id=\"comparison\"",
                "id=\"forgetting\"", "id=\"what-forgotten\"", "id=\"own-words\"", "id=\"run-1\"",
                "id=\"definitions\"");
        int at = -1;
        for (String h : order) {
            int i = html.indexOf(h);
            assertTrue(i > at, h + " after the one before it");
            at = i;
        }
        // the opening: naive forgot more (its NLL rises 1.0 per stage against ewc-replay's 0.3)
        String opening = html.substring(html.indexOf("id=\"most-forgotten\""),
                html.indexOf("id=\"comparison\""));
        assertTrue(opening.contains("in naive"), opening);
        assertTrue(opening.contains("class=\"s8\""), "tokens that rose 3+ nats, darkest red");
        assertTrue(opening.contains("title=\""), "hover text");
        // what was forgotten: every domain learned before the last, naive in detail
        String what = html.substring(html.indexOf("id=\"what-forgotten\""),
                html.indexOf("id=\"own-words\""));
        for (String d : List.of("computing", "legal", "&lt;script&gt;")) {
            assertTrue(what.contains("<h3>" + d), d);
        }
        assertFalse(what.contains("<h3>scripture"), "the last domain has nothing forgotten yet");
        assertTrue(what.contains("In detail: naive"), what.substring(0, 2000));
        assertTrue(what.contains("<details><summary>ewc-replay"), "the other run folded");
        // the model's own words, stage by stage, the runs side by side
        String words = html.substring(html.indexOf("id=\"own-words\""),
                html.indexOf("id=\"run-1\""));
        assertTrue(words.contains("said 4↵&lt;script&gt;"), words);
        assertTrue(words.contains("<th>naive") && words.contains("<th>ewc-replay"), words);
        // each run's settings folded
        assertTrue(html.contains("<details><summary>Setup: "), "settings folded");
        String md = Files.readString(out.resolve("report.md"), StandardCharsets.UTF_8);
        assertTrue(md.indexOf("## Most forgotten") < md.indexOf("## What was forgotten"));
        assertFalse(md.toLowerCase(Locale.ROOT).contains("<script"));
    }

    @Test
    void hostileDomainTextInTheReportOpensCleanInChromium() throws Exception {
        ChromiumReportTest.requireChromium();
        Path out = twoRuns(ForgottenPageTest.HOSTILE + " and more words to make a passage");
        Path html = out.resolve("report.html");
        String page = Files.readString(html, StandardCharsets.UTF_8);
        assertFalse(page.toLowerCase(Locale.ROOT).contains("<script"));
        assertFalse(page.contains("\u202e"));
        ChromiumReportTest.Result r = ChromiumReportTest.check(html, tmp.resolve("shot.png"));
        assertEquals(0, r.code(), r.output());
        String dom = ForgottenPageTest.dumpDom(html);
        assertFalse(dom.toLowerCase(Locale.ROOT).contains("<script"), "no script element");
        assertTrue(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assertTrue(dom.contains("&lt;U+202E&gt;"));
        assertTrue(dom.contains("&amp;"));
    }
}
