package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code retain demo --quick}: the embedded experiment end to end, as a newcomer runs it. */
class DemoCommandTest {

    @TempDir Path tmp;

    @Test
    void quickDemoPrintsTheComparisonAndWritesTheReport() throws IOException {
        CliTest.Run r = CliTest.run("demo", "--quick", "--quiet", "--out", tmp.toString());
        assertEquals(0, r.code(), r.err());
        for (String v : new String[] {"naive", "ewc", "replay", "ewc+replay"}) {
            assertTrue(r.out().contains(v), v + " in " + r.out());
            assertTrue(Files.exists(tmp.resolve(v).resolve("results.json")), v);
        }
        assertTrue(Files.exists(tmp.resolve("report/report.html")));
        assertTrue(r.out().contains(tmp.resolve("report/report.html").toString()), r.out());
        // Token detail at the base evaluation and after both stages, and the report's section.
        for (String v : new String[] {"naive", "ewc", "replay", "ewc+replay"}) {
            for (int k = 0; k <= 2; k++) {
                assertTrue(Files.exists(tmp.resolve(v).resolve("token-detail/eval-" + k
                        + ".tokd")), v + " eval-" + k);
            }
        }
        String html = Files.readString(tmp.resolve("report/report.html"));
        assertTrue(html.contains("<h2 id=\"what-forgotten\">What was forgotten"), "section");
    }
}
