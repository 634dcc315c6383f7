package dev.retain.eval.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.retain.core.util.RepoPaths;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.imageio.ImageIO;

/**
 * The HTML report in real headless Chromium, through tools/check_report_chromium.sh: it loads with
 * no console message and no request, a domain named {@code <script>alert(1)</script>} does not
 * run, and the screenshot holds the whole page. Skipped where /usr/bin/chromium is missing
 * ({@code apt-get install -y chromium}), except under CI, where it fails instead.
 */
class ChromiumReportTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @TempDir Path tmp;

    record Result(int code, String output) {}

    /**
     * Skips where Chromium is missing on a developer's machine, but fails under CI (the {@code
     * CI} variable set): .ci/run installs Debian's chromium, so a missing browser there is a broken
     * CI, not a reason to skip the check.
     */
    static void requireChromium() {
        boolean present = Files.isExecutable(CHROMIUM);
        if (System.getenv("CI") != null) {
            assertTrue(present, "CI is set but /usr/bin/chromium is missing: .ci/run installs it"
                    + " (apt-get install -y chromium)");
        }
        assumeTrue(present, "no /usr/bin/chromium (apt-get install -y chromium)");
    }

    static Result check(Path html, Path png) throws IOException, InterruptedException {
        Path script = RepoPaths.resolve("tools", "check_report_chromium.sh");
        Process p = new ProcessBuilder("bash", script.toString(), html.toString(), png.toString())
                .redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the check finished");
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    @Test
    void reportWithHostileNamesLoadsCleanAndShowsEveryChart() throws Exception {
        requireChromium();
        Path a = Fixtures.write(tmp, "a", ReportWriterTest.hostile("naive"));
        Path b = Fixtures.write(tmp, "b", ReportWriterTest.hostile("ewc-replay"));
        Path out = tmp.resolve("report");
        ReportWriter.writeRuns(List.of(a, b), out, Report.GapSettings.DEFAULT);
        Path png = tmp.resolve("shot.png");
        Result r = check(out.resolve("report.html"), png);
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().startsWith("OK: "), r.output());

        BufferedImage shot = ImageIO.read(png.toFile());
        assertNotNull(shot);
        assertEquals(1280, shot.getWidth());
        // The window was tall enough for the whole page: its last 100 rows are blank, so every
        // chart above them is on the screenshot.
        for (int y = shot.getHeight() - 100; y < shot.getHeight(); y++) {
            for (int x = 0; x < shot.getWidth(); x += 4) {
                assertEquals(0xFFFFFF, shot.getRGB(x, y) & 0xFFFFFF, "blank at " + x + "," + y);
            }
        }
    }

    @Test
    void theCheckFailsOnRequestsAndConsoleMessages() throws Exception {
        requireChromium();
        // A negative control: the checker must catch what it claims to catch.
        Path html = tmp.resolve("leaky.html");
        Files.writeString(html, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>x"
                + "</title></head><body><img src=\"http://example.invalid/x.png\">"
                + "<script>console.error('leak')</script></body></html>");
        Result r = check(html, tmp.resolve("leaky.png"));
        assertEquals(1, r.code(), r.output());
        assertTrue(r.output().contains("http://example.invalid/x.png"), r.output());
        assertTrue(r.output().contains("leak"), r.output());
    }
}
