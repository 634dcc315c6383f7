package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.commons.cli.Option;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code retain classic}: help, a small run, and one clear line with exit 2 for bad input. */
class ClassicCommandTest {

    @TempDir Path tmp;

    /** Runs {@code retain classic ARGS} through {@link Main}. */
    static CliTest.Run classic(String... args) {
        String[] full = new String[args.length + 1];
        full[0] = "classic";
        System.arraycopy(args, 0, full, 1, args.length);
        return CliTest.run(full);
    }

    @Test
    void everyOptionInHelpStatesItsDefaultOrIsRequired() {
        CliTest.Run r = classic("--help");
        assertEquals(0, r.code());
        for (Option o : new ClassicCommand().options().getOptions()) {
            assertTrue(r.out().contains("--" + o.getLongOpt()), "--" + o.getLongOpt());
            if (o.hasArg()) {
                String d = o.getDescription();
                assertTrue(d.contains("default") || d.contains("required"),
                        "--" + o.getLongOpt() + ": " + d);
            }
        }
        for (String s : new String[] {"naive", "joint", "ewc", "online-ewc", "replay", "pnn",
            "mer", "maml"}) {
            assertTrue(r.out().contains(s), s);
        }
    }

    @Test
    void smallRunPrintsMatrixAndMetricsAndWritesResults() throws IOException {
        Path out = tmp.resolve("run");
        CliTest.Run r = classic("--benchmark", "split-mnist", "--scenario", "task", "--strategy",
                "naive,ewc", "--seeds", "2", "--epochs", "1", "--hidden", "16",
                "--fisher-samples", "8", "--out", out.toString(), "--quiet");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("accuracy % (mean +- std over 2 seeds)"), r.out());
        assertTrue(r.out().contains("average accuracy"), r.out());
        assertTrue(r.out().contains("BWT") && r.out().contains("FWT"), r.out());
        assertTrue(r.out().contains("summary"), r.out());
        // the shared report writer's files, over both runs
        for (String f : new String[] {"report.json", "report.md", "report.html",
            "results.csv"}) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        assertTrue(Files.readString(out.resolve("report.md")).contains("ewc"));
        for (String s : new String[] {"naive", "ewc"}) {
            JsonNode j = new ObjectMapper().readTree(out.resolve(s).resolve("results.json")
                    .toFile());
            assertEquals("classifier", j.get("kind").asText());
            assertEquals(s, j.get("run").get("strategy").asText());
            assertEquals(2, j.get("scores").get("accuracy").get("seeds").asInt());
            assertEquals(6, j.get("scores").get("accuracy").get("std_rows").size());
        }
    }

    @Test
    void pnnInClassIncremental() {
        CliTest.userError(classic("--strategy", "pnn", "--scenario", "class", "--out",
                tmp.toString()), "--strategy pnn", "class", "task identity");
    }

    @Test
    void replayBufferLargerThanTheData() {
        CliTest.userError(classic("--strategy", "replay", "--replay-samples", "20000", "--out",
                tmp.toString()), "--replay-samples 20000", "8000 training examples");
    }

    @Test
    void unknownBenchmark() {
        CliTest.userError(classic("--benchmark", "cifar-10", "--out", tmp.toString()),
                "--benchmark cifar-10", "split-mnist");
    }

    @Test
    void unknownStrategy() {
        CliTest.userError(classic("--strategy", "naive,gem", "--out", tmp.toString()),
                "--strategy", "'gem'");
    }

    @Test
    void imagesFileWithTheWrongMagic() throws IOException {
        Path dir = tmp.resolve("mnist");
        Files.createDirectories(dir);
        for (String f : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
            // a label file's header where an image file belongs
            Files.write(dir.resolve(f), new byte[] {0, 0, 8, 1, 0, 0, 0, 0});
        }
        CliTest.userError(classic("--mnist", dir.toString(), "--out", tmp.toString()),
                "train-images-idx3-ubyte", "wrong magic number");
    }
}
