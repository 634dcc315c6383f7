package dev.retain.train.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;

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
        Key k = TrainConfig.keyOf(key);
        return assertThrows(UserError.class, () -> TrainConfig.fromValues(Map.of(key,
                TrainConfig.parse(k, TextNode.valueOf(value), "--" + key)), "flags"))
                .getMessage();
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
    void replayedWindowsAreAShareOfTheStepSpreadOverItsMicroBatches() {
        // {batch, grad-accum, ratio in quarters} -> replayed windows of each micro-batch
        Object[][] cases = {
            {2, 1, 1, new int[] {1}}, // round(0.5) = 1, as before accumulation counted
            {8, 1, 1, new int[] {2}},
            {1, 4, 1, new int[] {0, 0, 0, 1}}, // one window in four: the last micro-batch
            {2, 2, 1, new int[] {0, 1}}, // round(1.0) = 1 for the step
            {8, 3, 1, new int[] {2, 2, 2}},
            {1, 4, 2, new int[] {0, 1, 0, 1}}, // 2 of 4: floor(2(m+1)/4) - floor(2m/4)
        };
        for (Object[] c : cases) {
            TrainConfig t = TrainConfig.fromValues(Map.of("strategy", "replay", "batch-size",
                    c[0], "grad-accum", c[1], "replay-ratio", (int) c[2] / 4.0,
                    "replay-mode", "add"), "flags");
            int[] want = (int[]) c[3];
            int[] got = new int[want.length];
            int sum = 0;
            for (int m = 0; m < want.length; m++) {
                got[m] = t.replayRows(m);
                sum += got[m];
            }
            assertEquals(sum, t.replayRows(), "the micro-batches add up to the step's");
            assertEquals(java.util.Arrays.toString(want), java.util.Arrays.toString(got),
                    java.util.Arrays.toString(c));
        }
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
    void yamlFileWithUnknownKeyNamesTheLine() throws IOException {
        Path f = tmp.resolve("c.yaml");
        Files.writeString(f, "strategy: ewc\nlearning-rate: 0.001\nlamda: 10\n");
        Settings.Parsed p = Settings.read(f);
        UserError e = assertThrows(UserError.class, () -> TrainConfig.valuesFrom(p, p.root(), "",
                Map.of()));
        assertTrue(e.getMessage().startsWith(f + ":3: unknown setting 'lamda'"), e.getMessage());
    }

    @Test
    void jsonFileValues() throws IOException {
        Path f = tmp.resolve("c.json");
        Files.writeString(f, "{\n \"strategy\": \"ewc+replay\",\n \"ewc-lambda\": 50,\n"
                + " \"fisher-batched\": true\n}");
        Settings.Parsed p = Settings.read(f);
        TrainConfig c = TrainConfig.fromValues(TrainConfig.valuesFrom(p, p.root(), "", Map.of()),
                f.toString());
        assertEquals("ewc+replay", c.strategy());
        assertEquals(50.0, c.ewcLambda());
        assertTrue(c.fisherBatched());
        assertTrue(c.usesEwc() && c.usesReplay());
        assertEquals(TrainConfig.defaults().batchSize(), c.batchSize());
    }

    @Test
    void wrongTypeInFileNamesTheLine() throws IOException {
        Path f = tmp.resolve("c.json");
        Files.writeString(f, "{\n \"batch-size\": \"eight\"\n}");
        Settings.Parsed p = Settings.read(f);
        UserError e = assertThrows(UserError.class, () -> TrainConfig.valuesFrom(p, p.root(), "",
                Map.of()));
        assertTrue(e.getMessage().startsWith(f + ":2: batch-size must be a whole number"),
                e.getMessage());
    }
}
