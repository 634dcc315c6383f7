package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.bench.BenchSpec;
import dev.retain.classic.ClassicConfig;
import dev.retain.classic.data.Scenario;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every command's options from its key table: one name for one thing, the older spellings as
 * aliases that help lists, no option silently given twice, no measurements in help.
 */
class OptsTest {

    /** Parses a command line of a command as Main does. */
    static Settings values(Command c, String... args) throws Exception {
        return Opts.values(c.keys(), Opts.parse(c.options(), c.keys(), args));
    }

    /** Help text with every run of white space made one space. */
    static String help(String command) {
        CliTest.Run r = CliTest.run(command, "--help");
        assertEquals(0, r.code(), r.err());
        return r.out().replaceAll("\\s+", " ");
    }

    @Test
    void classicLrIsLearningRate() throws Exception {
        ClassicCommand c = new ClassicCommand();
        ClassicConfig older = ClassicCommand.config(values(c, "--lr", "0.01", "--out", "x"),
                Scenario.TASK);
        ClassicConfig newer = ClassicCommand.config(values(c, "--learning-rate", "0.01", "--out",
                "x"), Scenario.TASK);
        assertEquals(newer, older);
        assertEquals(0.01, older.learningRate());
        assertEquals(older, ClassicCommand.config(values(c, "--lr=0.01"), Scenario.TASK));
        assertEquals(1e-3, ClassicCommand.config(values(c), Scenario.TASK).learningRate());
    }

    @Test
    void benchBatchAndSeqAreBatchSizeAndSeqLen() throws Exception {
        BenchCommand c = new BenchCommand();
        Map<String, Object> older = BenchSpec.TABLE.only(values(c, "--batch", "2", "--seq", "16")
                .given());
        assertEquals(Map.of("batch-size", 2, "seq-len", 16), older);
        assertEquals(older, BenchSpec.TABLE.only(values(c, "--batch-size", "2", "--seq-len", "16")
                .given()));
    }

    @Test
    void evalWindowIsSeqLen() throws Exception {
        EvalCommand c = new EvalCommand();
        assertEquals(32, values(c, "--window", "32").get(EvalCommand.SEQ_LEN));
        assertEquals(32, values(c, "--seq-len", "32").get(EvalCommand.SEQ_LEN));
    }

    @Test
    void helpUsesTheSharedNamesAndListsTheAliases() {
        String classic = help("classic");
        assertTrue(classic.contains("--learning-rate <X> Adam learning rate (default: 0.001)"
                + " (alias: --lr)"), classic);
        assertTrue(classic.contains("--batch-size <N>"), classic);
        assertFalse(classic.contains("--lr <"), classic);
        String bench = help("bench");
        assertTrue(bench.contains("--batch-size <N> windows per step (default: 8 windows)"
                + " (alias: --batch)"), bench);
        assertTrue(bench.contains("--seq-len <N> tokens per window (default: the model's"
                + " context) (alias: --seq)"), bench);
        assertFalse(bench.contains("--batch <") || bench.contains("--seq <"), bench);
        assertTrue(help("eval").contains("(alias: --window)"));
    }

    /** Where two commands have an option of one name, it is one kind of value. */
    @Test
    void sharedNamesTakeOneKindOfValue() {
        Map<String, Key.Type> seen = new java.util.HashMap<>();
        for (Command c : Main.commands().values()) {
            for (Key k : c.keys().keys()) {
                Key.Type t = k.type() == Key.Type.INT ? Key.Type.LONG : k.type();
                if (k.name().equals("epochs") || k.name().equals("strategy")
                        || k.name().equals("device") || k.name().equals("split")
                        || k.name().equals("tasks")) {
                    // classic's epochs are whole; choice lists differ per command; classic's
                    // --tasks counts benchmark tasks, eval's names task files (issue 25's name)
                    continue;
                }
                Key.Type before = seen.putIfAbsent(k.name(), t);
                assertTrue(before == null || before == t, c.name() + " --" + k.name());
            }
        }
        assertTrue(seen.containsKey("learning-rate") && seen.containsKey("seq-len"));
    }

    @Test
    void anOptionGivenTwiceIsOneClearLine() {
        CliTest.userError(CliTest.run("bench", "--model", CliTest.TINY, "--batch-size", "2",
                "--batch-size", "0"), "--batch-size is given twice (2 and 0); give it once");
        CliTest.userError(CliTest.run("bench", "--model", CliTest.TINY, "--batch", "2",
                "--batch-size", "4"), "--batch-size is given twice (2 and 4); give it once");
        CliTest.userError(CliTest.run("classic", "--seeds", "1", "--seeds", "2", "--seeds", "3",
                "--out", "x"), "--seeds is given 3 times (1, 2 and 3); give it once");
        CliTest.userError(CliTest.run("train", "--model", CliTest.TINY, "--model", "b.pt"),
                "--model is given twice");
        CliTest.userError(CliTest.run("eval", "--window", "8", "--seq-len", "16"),
                "--seq-len is given twice (8 and 16)");
    }

    @Test
    void listsGatherTheirValuesOverRepeats() throws Exception {
        Settings v = values(new ClassicCommand(), "--strategy", "naive", "--strategy",
                "ewc,replay", "--out", "x", "--quiet", "--quiet");
        assertEquals(List.of("naive", "ewc,replay"), v.given().get("strategy"));
        assertEquals(List.of("a", "b", "c"), values(new EvalCommand(), "--domains", "a", "b",
                "--domains", "c").get(EvalCommand.DOMAINS));
    }

    @Test
    void helpHoldsNoMeasurements() {
        List<String> texts = new java.util.ArrayList<>();
        texts.add(CliTest.run("--help").out().replaceAll("\\s+", " "));
        for (String name : Main.commands().keySet()) {
            texts.add(help(name));
        }
        for (String t : texts) {
            String lower = t.toLowerCase(Locale.ROOT);
            assertFalse(lower.contains("measured") || lower.contains("idle cores")
                    || lower.matches(".*\\d+ (minutes|seconds)\\b.*"), t);
        }
    }
}
