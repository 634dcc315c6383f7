package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.util.RepoPaths;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** {@code retain eval --report DIR}: the single-model perplexity report, end to end. */
class EvalReportTest {

    @TempDir Path tmp;

    /** docs/report-schema.json (the same check as llm-eval's ReportWriterTest.validJson). */
    private static JsonSchema schema() throws IOException {
        try (InputStream in = Files.newInputStream(RepoPaths.resolve("docs",
                "report-schema.json"))) {
            return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in);
        }
    }

    @Test
    void evalReportWritesTheFourFilesAndValidJson() throws IOException {
        Path doms = tmp.resolve("domains");
        Path a = TestDomains.cut(doms, "computing", 2000, 3000);
        Path b = TestDomains.cut(doms, "legal", 2000, 3000);
        Path out = tmp.resolve("report");
        CliTest.Run r = CliTest.run("eval", "--model", CliTest.TINY, "--tokenizer", CliTest.TOK,
                "--domains", a.toString(), b.toString(), "--max-windows", "2", "--report",
                out.toString(), "--quiet");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("report: " + out.resolve("report.html")), r.out());
        for (String f : List.of("report.html", "report.md", "report.json", "results.csv")) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        JsonNode json = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        Set<ValidationMessage> errors = schema().validate(json);
        assertTrue(errors.isEmpty(), "report.json against docs/report-schema.json: " + errors);
        assertEquals("single_model", json.get("mode").asText());
        assertEquals(List.of("computing", "legal"), List.of(json.get("tasks").get(0).asText(),
                json.get("tasks").get(1).asText()));
        JsonNode ev = json.get("runs").get(0).get("evaluation");
        assertEquals(2, ev.size());
        for (JsonNode e : ev) {
            // --max-windows 2 of the model's 64-token context: 2 windows, 63 predictions each.
            assertEquals(2 * 63, e.get("predicted").asLong(), e.toString());
            assertEquals(Math.exp(e.get("mean_nll").asDouble()), e.get("perplexity").asDouble(),
                    1e-9 * e.get("perplexity").asDouble());
        }
        String html = Files.readString(out.resolve("report.html"), StandardCharsets.UTF_8);
        assertTrue(html.contains("computing") && html.contains("legal"));
        assertFalse(html.contains("src=\"http") || html.contains("url(http"),
                "self-contained: nothing loaded from the network");
        String csv = Files.readString(out.resolve("results.csv"), StandardCharsets.UTF_8);
        assertTrue(csv.lines().anyMatch(l -> l.contains("computing")), csv);
    }
}
