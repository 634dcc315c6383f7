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
