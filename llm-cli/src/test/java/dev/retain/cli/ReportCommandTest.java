package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;
import dev.retain.core.util.RepoPaths;

import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code retain report} on the hand-made runs of llm-eval's test resources. Runs the command the
 * way {@link Main} does (parse, run; a {@link UserError} is exit code 2 with one line), so it
 * works before and after the command is registered in Main.
 */
class ReportCommandTest {

    @TempDir Path tmp;

    static String fixture(String name) {
        return RepoPaths.resolve("llm-eval", "src", "test", "resources", "runs", name).toString();
    }

    static CliTest.Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ReportCommand cmd = new ReportCommand();
        try {
            Options options = cmd.options();
            int code = cmd.run(DefaultParser.builder().setAllowPartialMatching(false).build()
                    .parse(options, args), new PrintStream(out, true, StandardCharsets.UTF_8));
            return new CliTest.Run(code, out.toString(StandardCharsets.UTF_8), "");
        } catch (UserError e) {
            return new CliTest.Run(2, out.toString(StandardCharsets.UTF_8),
                    "retain report: error: " + e.getMessage() + "\n");
        } catch (ParseException e) {
            return new CliTest.Run(2, "", "retain report: " + e.getMessage() + "\n");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void writesTheFourFilesAndPrintsTheComparison() throws IOException {
        Path out = tmp.resolve("report");
        CliTest.Run r = run(fixture("naive"), fixture("ewc"), fixture("ewc-replay"), "--out",
                out.toString());
        assertEquals(0, r.code(), r.err());
        for (String f : new String[] {"report.json", "results.csv", "report.md", "report.html"}) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        String[] lines = r.out().split("\n");
        assertTrue(lines[0].startsWith("wrote report.json, results.csv, report.md and"
                + " report.html to "), r.out());
        assertTrue(lines[2].startsWith("run ") && lines[2].contains("avg final ppl"), r.out());
        assertTrue(lines[3].startsWith("naive "), r.out());
        assertTrue(lines[4].startsWith("ewc ") && lines[4].contains("71%"), r.out());
        assertTrue(lines[5].startsWith("ewc-replay ") && lines[5].contains("92%"), r.out());
    }

    @Test
    void stabilityWindowIsAnOption() throws IOException {
        Path out = tmp.resolve("w");
        CliTest.Run r = run(fixture("ewc"), "--out", out.toString(), "--stability-window", "0.5",
                "--recovery-tolerance", "0.05");
        assertEquals(0, r.code(), r.err());
        String json = Files.readString(out.resolve("report.json"));
        assertTrue(json.contains("\"stability_window_fraction\" : 0.5"), json.substring(0, 400));
        assertTrue(json.contains("\"recovery_tolerance\" : 0.05"));
    }

    @Test
    void badInputIsOneLineAndExitCode2() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        CliTest.userError(run(empty.toString(), "--out", tmp.resolve("o").toString()),
                "no results.json: is it a retain run directory? run retain train first");
        Path killed = Files.createDirectories(tmp.resolve("killed"));
        Files.writeString(killed.resolve("results.json"), "{\"schema\": \"retain.results/1\", \"ta");
        CliTest.userError(run(killed.toString(), "--out", tmp.resolve("o").toString()),
                "results.json", "not valid JSON");
        CliTest.userError(run(fixture("naive"), fixture("classifier-ewc"), "--out",
                tmp.resolve("o").toString()), "report them separately");
        CliTest.userError(run("--out", tmp.resolve("o").toString()), "run directories");
        CliTest.userError(run(fixture("naive"), "--out", tmp.resolve("o").toString(),
                "--stability-window", "2"), "--stability-window");
        CliTest.userError(run(fixture("naive")), "--out");
    }

    @Test
    void everyOptionStatesItsDefaultOrIsRequired() {
        for (Option o : new ReportCommand().options().getOptions()) {
            String d = o.getDescription();
            assertTrue(d.contains("default") || d.contains("required"), o.getLongOpt() + ": " + d);
        }
        assertFalse(new ReportCommand().footer().isEmpty());
    }
}
