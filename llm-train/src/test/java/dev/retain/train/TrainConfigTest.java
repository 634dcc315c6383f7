package dev.retain.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;
import dev.retain.train.config.CommonKeys;
import dev.retain.train.config.Key;
import dev.retain.train.config.SettingsFile;
import dev.retain.train.config.SourceSettings;
import dev.retain.train.lifecycle.DriftRecorder;
import dev.retain.train.lifecycle.StagePrompts;
import dev.retain.train.lifecycle.TaskProbes;
import dev.retain.train.lm.EwcPlugin;
import dev.retain.train.lm.ReplayPlugin;
import dev.retain.train.lm.Strategies;
import dev.retain.train.optim.Schedule;

import com.fasterxml.jackson.databind.node.TextNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Settings: defaults, parsing, and one clear line for each bad value. */
class TrainConfigTest {

    @TempDir Path tmp;

    static String error(String key, String value) {
        Key<?> k = TrainConfig.TABLE.require(key);
        return assertThrows(UserError.class, () -> TrainConfig.fromValues(Map.of(key,
                k.parse(TextNode.valueOf(value), "--" + key)), "flags")).getMessage();
    }

    @Test
    void badValues() {
        assertTrue(error("strategy", "si").contains("unknown strategy 'si'"));
        assertTrue(error("ewc-lambda", "0").contains("greater than 0"));
        assertTrue(error("ewc-lambda", "-5").contains("greater than 0"));
        assertTrue(error("replay-ratio", "0").contains("greater than 0"));
        assertTrue(error("replay-ratio", "-0.1").contains("greater than 0"));
        assertTrue(error("replay-tokens", "0").contains("greater than 0"));
        assertTrue(error("replay-tokens", "-1").contains("greater than 0"));
        assertTrue(error("batch-size", "two").contains("whole number"));
        assertTrue(error("learning-rate", "fast").contains("a number"));
        UserError e = assertThrows(UserError.class, () -> TrainConfig.fromValues(Map.of(
                "replay-ratio", 1.0, "replay-mode", "replace"), "flags"));
        assertTrue(e.getMessage().contains("below 1"));
        e = assertThrows(UserError.class, () -> TrainConfig.fromValues(Map.of(
                "replay-ratio", 1.5), "flags")); // add, the default: up to a full batch
        assertTrue(e.getMessage().contains("or at most 1 with replay-mode add"));
        e = assertThrows(UserError.class, () -> TrainConfig.fromValues(Map.of(
                "replay-mode", "fifo"), "flags"));
        assertTrue(e.getMessage().contains("replay-mode fifo: use replace or add"));
    }

    @Test
    void withReplacesOneSettingAndLeavesKeysWithoutADefaultUnset() {
        TrainConfig c = TrainConfig.defaults().with(Map.of("prompts", "p.txt"));
        assertEquals("p.txt", c.get(StagePrompts.PROMPTS));
        assertEquals(null, c.get(TaskProbes.EVAL_TASKS));
        assertEquals(TrainConfig.defaults().get(Schedule.LEARNING_RATE),
                c.get(Schedule.LEARNING_RATE));
    }

    @Test
    void replaceMustLeaveNewWindowsInTheBatch() {
        // replace: a step of one window per micro-batch may replay, if some stay new
        TrainConfig.fromValues(Map.of("strategy", "replay", "batch-size", 1, "grad-accum", 4,
                "replay-ratio", 0.25, "replay-mode", "replace"), "flags");
        UserError e = assertThrows(UserError.class, () -> TrainConfig.fromValues(Map.of(
                "strategy", "replay", "batch-size", 1, "replay-ratio", 0.5, "replay-mode",
                "replace"), "flags"));
        assertTrue(e.getMessage().endsWith("with batch-size 1 a replay-ratio of 0.5 leaves no new"
                + " windows; lower the ratio or raise the batch"), e.getMessage());
    }

    @Test
    void numbersAMachineCannotHonourAreRefusedInOneLine() {
        assertEquals("--epochs 1e40 must be at most 1000 passes", error("epochs", "1e40"));
        assertEquals("--max-steps-per-domain 2147483647 must be at most 10000000 steps",
                error("max-steps-per-domain", "2147483647"));
        assertEquals("--batch-size 100000 must be at most 65536 windows",
                error("batch-size", "100000"));
        String threads = assertThrows(UserError.class, () -> CommonKeys.THREADS.parseText(
                "100000", "--threads")).getMessage();
        assertEquals("--threads 100000 must be at most " + 4 * CommonKeys.CORES, threads);
        String split = assertThrows(UserError.class, () -> SourceSettings.SPLIT.parseText(
                "2147483647,2147483647,102", "--split")).getMessage();
        assertEquals("--split 2147483647,2147483647,102: each must be at most 100", split);
    }

    @Test
    void aliasesAreOneMechanismForFlagsFilesAndVariants() throws IOException {
        assertEquals("ewc-lambda", TrainConfig.TABLE.key("lambda").name());
        assertEquals("learning-rate", TrainConfig.TABLE.key("lr").name());
        Path f = tmp.resolve("c.yaml");
        Files.writeString(f, "strategy: ewc\nlambda: 50\nratio: 0.5\n");
        SettingsFile.Parsed p = SettingsFile.read(f);
        TrainConfig c = TrainConfig.fromValues(TrainConfig.valuesFrom(p, p.root(), "",
                Map.of()), f.toString());
        assertEquals(50.0, c.get(EwcPlugin.LAMBDA));
        assertEquals(0.5, c.get(ReplayPlugin.RATIO));
        Files.writeString(f, "lambda: 50\newc-lambda: 60\n");
        SettingsFile.Parsed twice = SettingsFile.read(f);
        UserError e = assertThrows(UserError.class, () -> TrainConfig.valuesFrom(twice,
                twice.root(), "", Map.of()));
        assertEquals(f + ":2: 'ewc-lambda' and 'lambda' are the same setting (ewc-lambda); keep"
                + " one", e.getMessage());
    }

    @Test
    void yamlOffAndOnAreWordsOfAChoice() throws IOException {
        Path f = tmp.resolve("c.yaml");
        Files.writeString(f, "drift: off\nrewarm: off\n");
        SettingsFile.Parsed p = SettingsFile.read(f);
        TrainConfig c = TrainConfig.fromValues(TrainConfig.valuesFrom(p, p.root(), "",
                Map.of()), f.toString());
        assertEquals("off", c.get(DriftRecorder.DRIFT));
        assertEquals("off", c.get(Schedule.REWARM));
        Files.writeString(f, "rewarm: on\n");
        SettingsFile.Parsed on = SettingsFile.read(f);
        assertEquals("on", TrainConfig.fromValues(TrainConfig.valuesFrom(on, on.root(), "",
                Map.of()), f.toString()).get(Schedule.REWARM));
    }

    @Test
    void yamlFileWithUnknownKeyNamesTheLine() throws IOException {
        Path f = tmp.resolve("c.yaml");
        Files.writeString(f, "strategy: ewc\nlearning-rate: 0.001\nlamda: 10\n");
        SettingsFile.Parsed p = SettingsFile.read(f);
        UserError e = assertThrows(UserError.class, () -> TrainConfig.valuesFrom(p, p.root(), "",
                Map.of()));
        assertTrue(e.getMessage().startsWith(f + ":3: unknown setting 'lamda'"), e.getMessage());
    }

    @Test
    void jsonFileValues() throws IOException {
        Path f = tmp.resolve("c.json");
        Files.writeString(f, "{\n \"strategy\": \"ewc+replay\",\n \"ewc-lambda\": 50,\n"
                + " \"fisher-batched\": true\n}");
        SettingsFile.Parsed p = SettingsFile.read(f);
        TrainConfig c = TrainConfig.fromValues(TrainConfig.valuesFrom(p, p.root(), "", Map.of()),
                f.toString());
        assertEquals("ewc+replay", c.get(Strategies.STRATEGY));
        assertEquals(50.0, c.get(EwcPlugin.LAMBDA));
        assertTrue(c.get(EwcPlugin.FISHER_BATCHED));
        assertTrue(Strategies.uses(c.settings(), "ewc") && Strategies.uses(c.settings(),
                "replay"));
        assertEquals(8, c.get(TrainConfig.BATCH_SIZE));
    }

    @Test
    void wrongTypeInFileNamesTheLine() throws IOException {
        Path f = tmp.resolve("c.json");
        Files.writeString(f, "{\n \"batch-size\": \"eight\"\n}");
        SettingsFile.Parsed p = SettingsFile.read(f);
        UserError e = assertThrows(UserError.class, () -> TrainConfig.valuesFrom(p, p.root(), "",
                Map.of()));
        assertTrue(e.getMessage().startsWith(f + ":2: batch-size must be a whole number"),
                e.getMessage());
    }
}
