package dev.retain.eval.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.util.RepoPaths;
import dev.retain.eval.EvalResult;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.imageio.ImageIO;

/** The four report files from the hand-made fixtures: content, schema, escaping, charts. */
class ReportWriterTest {

    @TempDir Path tmp;

    /** docs/report-schema.json, loaded once. */
    private static final class Schema {
        static final JsonSchema SCHEMA = load();

        private static JsonSchema load() {
            try (InputStream in = Files.newInputStream(RepoPaths.resolve("docs",
                    "report-schema.json"))) {
                return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
                        .getSchema(in);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    /** Asserts report.json in {@code out} matches docs/report-schema.json, and returns it. */
    static JsonNode validJson(Path out) throws IOException {
        JsonNode json = Fixtures.MAPPER.readTree(out.resolve("report.json").toFile());
        Set<ValidationMessage> errors = Schema.SCHEMA.validate(json);
        assertTrue(errors.isEmpty(), "report.json against docs/report-schema.json: " + errors);
        return json;
    }

    static List<Path> runs(String... names) {
        return java.util.Arrays.stream(names).map(Fixtures::run).toList();
    }

    private Report write(Path out, String... names) throws IOException {
        return ReportWriter.writeRuns(runs(names), out, Report.GapSettings.DEFAULT);
    }

    @Test
    void twoRunsSideBySide() throws IOException {
        Path out = tmp.resolve("two");
        Report r = write(out, "naive", "ewc");
        for (String f : List.of("report.json", "results.csv", "report.md", "report.html")) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        JsonNode json = validJson(out);
        assertEquals("retain.report/1", json.get("schema").asText());
        assertEquals(2, json.get("runs").size());
        assertEquals("naive", json.get("runs").get(0).get("strategy").asText());
        assertEquals("ewc", json.get("runs").get(1).get("strategy").asText());
        assertEquals("naive", json.get("ranking").get("baseline").asText());

        // The plain-text table: a header and one line per run, both strategies side by side.
        String table = ReportWriter.comparisonTable(r);
        String[] lines = table.split("\n");
        assertEquals(3, lines.length, table);
        for (String col : List.of("run", "avg final ppl", "avg forgetting (nll)", "BWT",
                "plasticity", "wall time", "forgetting reduced vs naive")) {
            assertTrue(lines[0].contains(col), col + " in " + lines[0]);
        }
        assertTrue(lines[1].startsWith("naive ") && lines[1].contains("(baseline)"), lines[1]);
        // naive: F = 0.8333 (see fixtureMetricsByHand); ewc: F = 0.24, 1 - 0.24 / 0.8333 = 71%
        assertTrue(lines[2].startsWith("ewc ") && lines[2].contains("+0.2400")
                && lines[2].contains("71%"), lines[2]);

        // The ranking as plain text: rank 1 and 2, naive the baseline, ewc 71% less forgetting.
        String[] rank = ReportWriter.rankingTable(r).split("\n");
        assertEquals(3, rank.length, String.join("\n", rank));
        assertTrue(rank[0].startsWith("rank  run") && rank[0].endsWith("wall time vs naive"),
                rank[0]);
        for (int i = 1; i <= 2; i++) {
            assertTrue(rank[i].startsWith("   " + i + "  "), rank[i]);
            String row = rank[i].contains("naive ") ? "naive" : "ewc";
            assertTrue(row.equals("naive") ? rank[i].contains("(baseline)")
                    && rank[i].endsWith("1.00x") : rank[i].contains("71%"), rank[i]);
        }
        assertTrue(rank[1].contains("naive ") != rank[2].contains("naive "), "each run once");

        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("| naive | naive | 4/4 | 70.11 | +0.8333 |"), md);
        assertTrue(md.contains("| ewc | ewc | 4/4 | 48.42 | +0.2400 |"), md);
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("<h2 id=\"run-1\">Run: naive</h2>"));
        assertTrue(html.contains("<h2 id=\"run-2\">Run: ewc</h2>"));
    }

    @Test
    void fixtureMetricsByHand() throws IOException {
        Report r = write(tmp.resolve("three"), "naive", "ewc", "ewc-replay");
        // naive, mean NLL rows (runs/naive/results.json):
        //   after computing 3.90 5.30 4.70 5.60 | after legal 4.30 3.80 4.80 5.50
        //   after code 4.60 4.40 3.20 5.70 | after scripture 4.80 4.70 3.90 3.60
        // f_computing = 4.80 - min(3.90, 4.30, 4.60) = 0.90; f_legal = 4.70 - 3.80 = 0.90;
        // f_code = 3.90 - 3.20 = 0.70; F = 2.50 / 3 = 0.8333
        // A = (4.80 + 4.70 + 3.90 + 3.60) / 4 = 4.25; average final ppl = exp(4.25) = 70.11
        RunReport naive = r.runs().get(0);
        assertEquals(2.5 / 3, naive.primary().averageForgetting(), 1e-12);
        assertEquals(4.25, naive.primary().averageFinal(), 1e-12);
        // ewc-replay: 4.03 - 3.90 = 0.13, 3.93 - min(5.30, 3.90, 3.89) = 0.04, 3.36 - 3.32 = 0.04
        // F = 0.21 / 3 = 0.07; reduction vs naive = 1 - 0.07 / 0.8333 = 0.916
        RunReport replay = r.runs().get(2);
        assertEquals(0.07, replay.primary().averageForgetting(), 1e-12);
        assertEquals(1 - 0.07 / (2.5 / 3),
                replay.vsBaseline().get("mean_nll").forgettingReduction(), 1e-12);
        // Ranking by average final mean NLL: ewc-replay 3.7675 < ewc 3.8775 < naive 4.25
        assertEquals(List.of("ewc-replay", "ewc", "naive"),
                r.ranking().stream().map(Report.Rank::run).toList());
        // Plasticity lost vs naive, ewc-replay: right-after NLL 3.90 3.90 3.32 3.75 against
        // naive's 3.90 3.80 3.20 3.60: (0 + 0.10 + 0.12 + 0.15) / 4 = 0.0925 nats
        assertEquals(0.0925, replay.vsBaseline().get("mean_nll").plasticityLoss(), 1e-12);
        // Wall time: ewc-replay 578.3 s, naive 510.0 s
        assertEquals(578.3 / 510.0, replay.vsBaseline().get("mean_nll").wallTimeRatio(), 1e-9);
        assertEquals(230400, replay.cost().replayTokens());
        assertEquals(24.3, replay.cost().fisherSeconds(), 1e-9);
        // Stability gap: ewc-replay recovers legal after the code boundary (see the curves)
        assertTrue(replay.stabilityGap().stream().anyMatch(g -> g.task().equals("legal")
                && g.boundary() == 600 && g.stepsToRecover() != null));
        assertTrue(naive.stabilityGap().stream().allMatch(g -> g.stepsToRecover() == null));
        validJson(tmp.resolve("three"));
    }

    @Test
    void csvIsTidy() throws IOException {
        Path out = tmp.resolve("csv");
        write(out, "naive", "ewc-replay");
        List<String> lines = Files.readAllLines(out.resolve("results.csv"));
        assertEquals("run,strategy,kind,stage,trained_on,domain,metric,value", lines.get(0));
        Set<String> keys = new HashSet<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", -1);
            assertEquals(8, f.length, line);
            assertTrue(keys.add(f[0] + "|" + f[3] + "|" + f[5] + "|" + f[6]),
                    "one row per run x stage x domain x metric: " + line);
        }
        // R[4][computing] of naive, after the last stage (stage 3, scripture)
        assertTrue(lines.contains("naive,naive,lm,3,scripture,computing,mean_nll,4.8"));
        assertTrue(lines.contains("naive,naive,lm,-1,,legal,mean_nll,5.6"));
        String f = lines.stream().filter(l -> l.startsWith("ewc-replay,ewc+replay,lm,3,scripture,,"
                + "mean_nll.average_forgetting,")).findFirst().orElseThrow();
        assertEquals(0.07, Double.parseDouble(f.substring(f.lastIndexOf(',') + 1)), 1e-12);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("ewc-replay,ewc+replay,lm,1,legal,,"
                + "cost.replay_tokens,76800")));
    }

    @Test
    void htmlIsSelfContainedWithEveryChartAsPng() throws IOException {
        Path out = tmp.resolve("html");
        write(out, "naive", "ewc", "ewc-replay");
        String html = Files.readString(out.resolve("report.html"));
        assertFalse(html.contains("<script"), "no script");
        assertFalse(html.contains("<link"), "no external style sheet or font");
        assertFalse(html.contains("http://") || html.contains("https://") || html.contains("//"
                + "fonts"), "no URL at all");
        assertTrue(html.contains("Content-Security-Policy\" content=\"default-src 'none'; img-src"
                + " data:;"));
        // Charts: forgetting bars, then per run 2 heat maps, the curves and the drift heat map.
        Matcher m = Pattern.compile("<img width=\"(\\d+)\" height=\"(\\d+)\" alt=\"([^\"]*)\""
                + " src=\"([^\"]*)\">").matcher(html);
        List<String> alts = new ArrayList<>();
        while (m.find()) {
            assertTrue(m.group(4).startsWith("data:image/png;base64,"), m.group(3));
            byte[] png = Base64.getDecoder().decode(m.group(4).substring(22));
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
            assertNotNull(img, m.group(3));
            assertEquals(Integer.parseInt(m.group(1)), img.getWidth(), m.group(3));
            assertEquals(Integer.parseInt(m.group(2)), img.getHeight(), m.group(3));
            alts.add(m.group(3));
        }
        assertEquals(1 + 3 * 4, alts.size(), alts.toString());
        assertTrue(alts.contains("Forgetting per domain, by run"));
        assertTrue(alts.contains("Perplexity heat map, ewc"));
        assertTrue(alts.contains("Token accuracy heat map, ewc"));
        assertTrue(alts.contains("Validation perplexity against training step, ewc-replay"));
        assertTrue(alts.contains("Layer drift heat map, naive"));
        // The metrics table with formulas.
        assertTrue(html.contains("<code>BWT = (1/(k-1)) * sum_{j=1..k-1} (g[k][j] - g[j][j])"
                + "</code>"));
    }

    @Test
    void peakMemorySaysFromWhenItIsMeasured() throws IOException {
        // The fixtures predate peak_rss_scope: their peak may hold earlier runs of the process.
        ObjectNode t = Fixtures.tree("naive");
        t.put("peak_rss_scope", "run");
        Path run = Fixtures.write(tmp, "scoped", t);
        Path out = tmp.resolve("peak");
        ReportWriter.writeRuns(List.of(Fixtures.run("ewc"), run), out, Report.GapSettings.DEFAULT);
        JsonNode json = validJson(out);
        assertEquals("process", json.get("runs").get(0).get("timings").get("total")
                .get("peak_rss_scope").asText());
        assertEquals("run", json.get("runs").get(1).get("timings").get("total")
                .get("peak_rss_scope").asText());
        String md = Files.readString(out.resolve("report.md"));
        // 1234567890 bytes = 1.23 GB (Fmt.bytes: decimal units, two decimals above 1 GB)
        assertTrue(md.contains("peak resident memory of the process during the run 1.23 GB"),
                md);
        assertTrue(md.contains("peak resident memory of the process since it started, which"
                + " may include earlier runs: 1.23 GB"), md);
    }

    @Test
    void runsAgainstAJointRun() throws IOException {
        ObjectNode j = Fixtures.tree("ewc-replay");
        ((ObjectNode) j.get("run")).put("strategy", "joint").put("name", "joint");
        ObjectNode n = Fixtures.tree("naive");
        for (JsonNode s : n.get("stages")) {
            ((ObjectNode) s).put("token_passes", 1000);
        }
        for (JsonNode s : j.get("stages")) {
            ((ObjectNode) s).put("token_passes", 1500);
        }
        Path joint = Fixtures.write(tmp, "joint", j);
        Path naive = Fixtures.write(tmp, "naive", n);
        Report r = ReportWriter.writeRuns(List.of(naive, joint), tmp.resolve(
                "vs-joint"), Report.GapSettings.DEFAULT);
        String[] lines = ReportWriter.comparisonTable(r).split("\n");
        assertTrue(lines[0].endsWith("compute vs naive  avg final ppl vs joint"), lines[0]);
        assertTrue(lines[2].matches(".*  1\\.50x +\\(reference\\)"), "1500 / 1000 token passes"
                + " per stage: " + lines[2]);
        assertTrue(lines[2].endsWith("(reference)"), lines[2]);
        // naive's average final mean NLL against joint's, each the mean of the last score row
        double[] finalNll = new double[2];
        int i = 0;
        for (Path run : List.of(Fixtures.run("naive"), joint)) {
            JsonNode rows = Fixtures.MAPPER.readTree(run.resolve("results.json").toFile())
                    .get("scores").get("mean_nll").get("rows");
            JsonNode last = rows.get(rows.size() - 1);
            double sum = 0;
            for (JsonNode x : last) {
                sum += x.asDouble();
            }
            finalNll[i++] = sum / last.size();
        }
        assertTrue(lines[1].endsWith(String.format(java.util.Locale.ROOT, "%.2fx",
                Math.exp(finalNll[0] - finalNll[1]))), lines[1]);
    }

    @Test
    void trainingLossChartFromMetricsLog() throws IOException {
        Path run = Fixtures.write(tmp, "logged", Fixtures.tree("naive"));
        dev.retain.eval.results.MetricsLog log = dev.retain.eval.results.MetricsLog.open(run, 0);
        for (int s = 1; s <= 3001; s++) { // more steps than the chart draws: means of 3 steps
            log.write(dev.retain.eval.results.MetricsLog.step(s, 0, "computing", 5 - s * 1e-3,
                    5 - s * 1e-3, Double.NaN, 0, 1e-3, 1, 256, 0.1));
        }
        Path out = tmp.resolve("loss");
        ReportWriter.writeRuns(List.of(run, Fixtures.run("ewc")), out,
                Report.GapSettings.DEFAULT);
        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("### Training loss: naive"), md);
        assertTrue(md.contains("From metrics.jsonl: every optimizer step, as means over 3"
                + " steps."), md);
        assertFalse(md.contains("### Training loss: ewc"), "no log, no chart");
        assertTrue(Files.readString(out.resolve("report.html"))
                .contains("alt=\"Training loss against training step, naive\""));
    }

    @Test
    void aTaskFreeRunsDetectionsPointsAndTheirForgettingAreReported() throws IOException {
        // The naive fixture (stages start at steps 0, 300, 600, 900) as a task-free run: one
        // detection in legal, 10 steps after its start, and four evaluation points. Forgetting
        // over the points, by hand: computing's best after step 300 is 3.9 (steps 300, 450, 600),
        // final 4.8: 0.9; legal's after step 600 is 3.8, final 4.7: 0.9; code and scripture have
        // no point between their last window and the end: null.
        ObjectNode t = Fixtures.tree("naive");
        ObjectNode st = t.putObject("stream");
        st.put("consolidate", "plateau");
        st.putArray("consolidations").addObject().put("step", 310).put("tokens", 1000)
                .put("trigger", "plateau").put("consolidated", true).put("segment", 1);
        var points = st.putArray("points");
        double[][] rows = {{3.9, 5.3, 4.7, 5.6}, {4.1, 4.0, 4.8, 5.5}, {4.3, 3.8, 4.8, 5.5},
            {4.8, 4.7, 3.9, 3.6}};
        long[] steps = {300, 450, 600, 1200};
        for (int i = 0; i < rows.length; i++) {
            ObjectNode p = points.addObject().put("step", steps[i]).put("tokens", steps[i] * 10)
                    .put("segment", Math.min(3, (int) (steps[i] / 300)));
            var nll = p.putArray("mean_nll");
            for (double v : rows[i]) {
                nll.add(v);
            }
        }
        Path run = Fixtures.write(tmp, "stream", t);
        Path out = tmp.resolve("stream-report");
        ReportWriter.writeRuns(List.of(run), out, Report.GapSettings.DEFAULT);
        JsonNode s = validJson(out).get("runs").get(0).get("stream");
        assertEquals("plateau", s.get("consolidate").asText());
        assertEquals(310, s.get("consolidations").get(0).get("step").asLong());
        JsonNode f = s.get("point_forgetting");
        assertEquals(0.9, f.get(0).asDouble(), 1e-9);
        assertEquals(0.9, f.get(1).asDouble(), 1e-9);
        assertTrue(f.get(2).isNull() && f.get(3).isNull(), f.toString());
        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("### Task-free: naive"), md);
        assertTrue(md.contains("| 310 | 1,000 | plateau | yes | legal | 9 |"), md);
        assertTrue(md.contains("| forgetting (nats) |  | +0.9000 | +0.9000 |  |  |"), md);
        // A run that is not task-free has neither.
        ReportWriter.writeRuns(List.of(Fixtures.run("naive")), tmp.resolve("plain"),
                Report.GapSettings.DEFAULT);
        assertFalse(validJson(tmp.resolve("plain")).get("runs").get(0).has("stream"));
    }

    /** A results tree whose domain and run names are markup. */
    static ObjectNode hostile(String fixture) {
        ObjectNode t = Fixtures.tree(fixture);
        Fixtures.rename(t, "code", XSS);
        ((ObjectNode) t.get("run")).put("name", fixture + " <img src=x onerror=alert(2)>");
        return t;
    }

    static final String XSS = "<script>alert(1)</script>";

    @Test
    void markupInNamesIsEscapedEverywhere() throws IOException {
        Path a = Fixtures.write(tmp, "a", hostile("naive"));
        Path b = Fixtures.write(tmp, "b", hostile("ewc"));
        Path out = tmp.resolve("xss");
        Report r = ReportWriter.writeRuns(List.of(a, b), out, Report.GapSettings.DEFAULT);
        assertEquals(XSS, r.tasks().get(2));
        String html = Files.readString(out.resolve("report.html"));
        assertFalse(html.contains(XSS), "the raw domain name never appears in the HTML");
        assertFalse(html.contains("<script"), "no script element at all");
        assertFalse(html.contains("<img src=x"), "the raw run name never appears in the HTML");
        assertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "shown as text");
        assertTrue(html.contains("naive &lt;img src=x onerror=alert(2)&gt;"));
        String md = Files.readString(out.resolve("report.md"));
        assertFalse(md.contains(XSS) || md.contains("<img"), "no raw markup in Markdown");
        assertTrue(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        // JSON and CSV are data: the name is kept exactly (JSON-escaped, CSV as is).
        JsonNode json = validJson(out);
        assertEquals(XSS, json.get("tasks").get(2).asText());
        assertTrue(Files.readString(out.resolve("results.csv")).contains("," + XSS + ","));
    }

    @Test
    void classifierRuns() throws IOException {
        Path out = tmp.resolve("cls");
        Report r = write(out, "classifier-naive", "classifier-ewc");
        JsonNode json = validJson(out);
        assertEquals("classifier", json.get("kind").asText());
        JsonNode m = json.get("runs").get(0).get("metrics").get("accuracy");
        // classifier-naive, accuracy after the last stage: 0.52 0.58 0.62 0.75 0.98
        // f = (0.99-0.52, 0.98-0.58, 0.99-0.62, 0.99-0.75) = (0.47, 0.40, 0.37, 0.24)
        // F = 1.48 / 4 = 0.37; A = (0.52+0.58+0.62+0.75+0.98) / 5 = 3.45 / 5 = 0.69
        assertEquals(0.37, m.get("average_forgetting").asDouble(), 1e-12);
        assertEquals(0.69, m.get("average_final").asDouble(), 1e-12);
        // classifier-ewc: F = (0.11 + 0.10 + 0.06 + 0.03) / 4 = 0.075; 1 - 0.075/0.37 = 0.797
        JsonNode vs = json.get("runs").get(1).get("vs_baseline").get("accuracy");
        assertEquals(1 - 0.075 / 0.37, vs.get("forgetting_reduction").asDouble(), 1e-9);
        String table = ReportWriter.comparisonTable(r);
        assertTrue(table.startsWith("run") && table.contains("avg final acc")
                && table.contains("avg forgetting (acc)") && table.contains("plasticity (acc)"),
                table);
        assertTrue(table.contains("0.6900") && table.contains("0.9080"), table);
        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("0.9900 ± 0.0120"), "accuracy with its std over seeds");
        assertTrue(md.contains("| 0/1 |"), md);
        assertFalse(md.contains("Perplexity"), "no perplexity for classifiers");
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("alt=\"Accuracy heat map, classifier-ewc\""));
        // Classifiers learn tasks, not domains.
        assertTrue(md.contains("## Forgetting per task"), md);
        assertTrue(html.contains("alt=\"Forgetting per task, by run\""));
        assertFalse(md.contains("per domain") || html.contains("per domain"),
                "no 'per domain' in a classifier report");
    }

    @Test
    void singleModelReport() throws IOException {
        List<EvalResult> results = List.of(
                new EvalResult("computing", "test", 2000, 16, 1984, 1984 * 4.0, 496, 1.5),
                new EvalResult("legal", "test", 1000, 8, 992, 992 * 4.5, 200, 0.8),
                new EvalResult(XSS, "test", 500, 4, 496, 496 * 3.0, 150, 0.4));
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("path", "datasets/models/tiny/model.pt");
        model.put("parameters", 1635744);
        model.put("split", "test");
        model.put("window", 64);
        Path out = tmp.resolve("single");
        Report r = ReportWriter.writeSingleModel("tiny", model, results, out);
        assertTrue(r.isSingleModel());
        JsonNode json = validJson(out);
        assertEquals("single_model", json.get("mode").asText());
        JsonNode run = json.get("runs").get(0);
        assertEquals(3, run.get("evaluation").size());
        assertEquals(Math.exp(4.0), run.get("evaluation").get(0).get("perplexity").asDouble(),
                1e-9);
        assertEquals(1, run.get("matrices").get("perplexity").get("rows").size(), "one row");
        assertEquals(0, run.get("missing_stages").size());
        assertEquals(1635744, run.get("model").get("parameters").asInt());
        String md = Files.readString(out.resolve("report.md"));
        // exp(4.0) = 54.60, exp(4.5) = 90.02; 496/1984 = 0.25
        assertTrue(md.contains("| computing | 2,000 | 1,984 | 54.60 | 4.0000 | 0.2500 |"), md);
        assertTrue(md.contains("| legal | 1,000 | 992 | 90.02 | 4.5000 |"), md);
        assertFalse(md.contains(XSS));
        String csv = Files.readString(out.resolve("results.csv"));
        assertTrue(csv.contains("tiny,tiny,lm,-1,,computing,mean_nll,4"), csv);
        String html = Files.readString(out.resolve("report.html"));
        assertFalse(html.contains(XSS));
        assertEquals(2, html.split("<img ", -1).length - 1, "perplexity and accuracy bars");
    }

    @Test
    void schemaRejectsAMalformedReport() throws IOException {
        // The schema check above means something: a report missing its runs does not pass.
        Path out = tmp.resolve("neg");
        write(out, "ewc");
        ObjectNode json = (ObjectNode) Fixtures.MAPPER.readTree(out.resolve("report.json")
                .toFile());
        json.remove("runs");
        assertFalse(Schema.SCHEMA.validate(json).isEmpty());
        ObjectNode json2 = (ObjectNode) Fixtures.MAPPER.readTree(out.resolve("report.json")
                .toFile());
        ((ObjectNode) json2.get("runs").get(0)).put("status", "exploded");
        assertFalse(Schema.SCHEMA.validate(json2).isEmpty());
    }

    @Test
    void oneRunHasNoRanking() throws IOException {
        assertEquals("", ReportWriter.rankingTable(write(tmp.resolve("one"), "ewc")));
    }
}
