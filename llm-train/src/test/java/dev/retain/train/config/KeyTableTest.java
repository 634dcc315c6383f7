package dev.retain.train.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;
import dev.retain.train.TrainConfig;
import dev.retain.train.lm.EwcPlugin;
import dev.retain.train.lm.Strategies;
import dev.retain.train.optim.AdamW;

import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.TextNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One declaration per setting: help line, aliases, parsing, checks and defaults. */
class KeyTableTest {

    @TempDir Path tmp;

    static final Key<Double> LR = Key.real("learning-rate", 1e-3, 0, true, "Adam learning rate")
            .alias("lr");
    static final Key<Integer> BATCH = Key.integer("batch-size", 8, 1, "windows", "windows per step")
            .alias("batch");
    static final Key<int[]> HIDDEN = Key.integers("hidden", new int[] {400, 400}, 1, "widths");
    static final Key<Path> OUT = Key.path("out", "DIR", "where").mandatory();
    static final KeyTable TABLE = KeyTable.of(LR, BATCH, HIDDEN,
            Key.flag("quiet", "no progress"), OUT);

    static String error(Runnable r) {
        return assertThrows(UserError.class, r::run).getMessage();
    }

    @Test
    void helpLineSaysDefaultUnitAndAliases() {
        assertEquals("Adam learning rate (default: 0.001) (alias: --lr)", LR.describe());
        assertEquals("windows per step (default: 8 windows) (alias: --batch)", BATCH.describe());
        assertEquals("widths (default: 400,400)", HIDDEN.describe());
        assertEquals("N[,N...]", HIDDEN.metavarText());
        assertEquals("no progress (default: off)", TABLE.require("quiet").describe());
        assertEquals("where (required)", TABLE.require("out").describe());
        assertEquals("x (default: the model's context) (aliases: --seq, --window)",
                Key.integer("seq-len", 0, 2, "tokens", "x").shown("the model's context")
                        .alias("seq", "window").describe());
        assertEquals("empirical|sampled", EwcPlugin.FISHER_MODE.metavarText());
    }

    @Test
    void aliasesFindTheirKeyAndParseAlike() {
        assertSame(LR, TABLE.key("lr"));
        assertSame(LR, TABLE.key("learning-rate"));
        assertNull(TABLE.key("rate"));
        assertEquals(Map.of("lr", "learning-rate", "batch", "batch-size"), TABLE.aliases());
        assertEquals(TABLE.parseTexts(Map.of("learning-rate", "0.01", "batch-size", "2")),
                TABLE.parseTexts(Map.of("lr", "0.01", "batch", "2")));
        assertEquals(0.01, TABLE.parseTexts(Map.of("lr", "0.01")).get("learning-rate"));
    }

    @Test
    void aNameOrAliasDeclaredTwiceIsAProgrammingError() {
        assertThrows(IllegalArgumentException.class, () -> KeyTable.of(LR, LR));
        assertThrows(IllegalArgumentException.class, () -> KeyTable.of(LR,
                Key.real("lr", 1, 0, false, "x")));
    }

    @Test
    void messagesNameTheFlagOrTheFileLine() {
        assertEquals("--batch-size 0 must be at least 1", error(() -> BATCH.parseText("0",
                "--batch-size")));
        assertEquals("exp.yaml:4: batch-size 0 must be at least 1", error(() -> BATCH.parse(
                IntNode.valueOf(0), "exp.yaml:4")));
        assertEquals("--batch-size must be a whole number, got 'two'", error(() ->
                BATCH.parseText("two", "--batch-size")));
        assertEquals("--batch-size must be a whole number, got '2.5'", error(() ->
                BATCH.parseText("2.5", "--batch-size")));
        assertEquals("--learning-rate 0 must be greater than 0", error(() -> LR.parseText("0",
                "--learning-rate")));
        assertEquals("--learning-rate must be a finite number, got NaN", error(() ->
                LR.parseText("NaN", "--learning-rate")));
        assertTrue(error(() -> HIDDEN.parseText("4x", "--hidden")).startsWith(
                "--hidden must be whole numbers separated by commas such as 400,400"));
        assertEquals("--hidden 400,0: each must be at least 1", error(() ->
                HIDDEN.parseText("400,0", "--hidden")));
        assertTrue(error(() -> EwcPlugin.EXCLUDE.parseText("(wte",
                "--ewc-exclude")).startsWith("--ewc-exclude '(wte' is not a regular expression"));
        assertEquals("--strategy: unknown strategy 'si'; expected one of naive, ewc, replay,"
                + " ewc+replay, l2, l2+replay, lwf, replay+lwf, ewc+replay+lwf, joint",
                error(() -> Strategies.STRATEGY.parseText("si", "--strategy")));
    }

    @Test
    void parsesWholeNumbersExactlyAndInEveryWrittenForm() {
        Key<Long> seed = TrainConfig.SEED;
        assertEquals(1234567890123456789L, seed.parseText("1234567890123456789", "--seed"));
        assertEquals(1000, BATCH.parseText("1e3", "--batch-size"));
        assertEquals(1000, BATCH.parseText("1_000", "--batch-size"));
        assertArrayEquals(new int[] {16, 8}, HIDDEN.parseText("16, 8", "--hidden"));
        assertEquals(true, AdamW.DECAY_ALL.parse(TextNode.valueOf("TRUE"), "f"));
    }

    @Test
    void completeChecksTypedValuesAndFillsDefaults() {
        Map<String, Object> v = TABLE.complete(Map.of("learning-rate", 1), "code");
        assertEquals(1.0, v.get("learning-rate"), "an integral number becomes the REAL's double");
        assertEquals(8, v.get("batch-size"));
        assertEquals(false, v.get("quiet"));
        assertEquals("code: batch-size 0 must be at least 1", error(() -> TABLE.complete(
                Map.of("batch-size", 0), "code")));
        assertEquals("code: unknown setting 'lamda'", error(() -> TABLE.complete(
                Map.of("lamda", 1.0), "code")));
        assertEquals(Map.of("learning-rate", 0.1), TABLE.only(Map.of("learning-rate", 0.1,
                "model", "m.pt")));
    }

    @Test
    void valuesFallBackToDefaultsAndRefuseAMissingRequiredOne() {
        Settings v = TABLE.settings(Map.of("batch-size", 2));
        int batch = v.get(BATCH); // typed: no cast, no name to misspell
        assertEquals(2, batch);
        assertEquals(1e-3, v.get(LR));
        assertTrue(v.has(BATCH) && !v.has(LR));
        assertEquals("--out is required; see --help", error(() -> v.get(OUT)));
        assertThrows(IllegalArgumentException.class, () -> v.has(Key.flag("nonsense", "x")));
        assertThrows(IllegalArgumentException.class, () -> TABLE.settings(Map.of("lamda", 1)));
    }

    /**
     * The defaults of retain train, as they were before the table moved out of TrainConfig, with
     * the keys added since at the defaults that keep a run as it was (cosine schedule with
     * re-warming, no LwF, nothing frozen, TorchScript stages), and replay on top of the batch (the
     * measured best trade-off, which replaced "replace"); no task probes; domains told (not
     * task-free), windows shuffled.
     */
    @Test
    void trainDefaultsAreUnchanged() {
        Map<String, Object> d = new LinkedHashMap<>();
        Object[] kv = {"strategy", "naive", "learning-rate", 2e-3, "batch-size", 8, "grad-accum",
            1, "max-steps-per-domain", 200, "epochs", 0.0, "warmup-steps", 20, "min-lr-ratio", 0.1,
            "schedule", "cosine", "decay-fraction", 0.2, "rewarm", "on",
            "weight-decay", 0.01, "decay-all", false, "max-grad-norm", 1.0, "adam-beta1", 0.9,
            "adam-beta2", 0.999, "adam-eps", 1e-8, "seq-len", 0, "seed", 1234L, "ewc-lambda",
            2000.0, "ewc-gamma", 1.0, "l2-lambda", 1.0, "lwf-weight", 1.0, "lwf-temperature", 2.0,
            "lwf-on", "both", "fisher-samples", 64, "fisher-mode", "empirical",
            "fisher-batched", false, "ewc-prior", "", "ewc-exclude", "", "freeze", "",
            "replay-tokens", 32768L, "replay-ratio", 0.25, "replay-mode", "add",
            "general-ratio", 0.05, "eval-every", 0, "eval-windows", 8, "test-windows", 0,
            "token-detail", 64, "prompts", "", "max-new-tokens", 40, "sample", false, "top-k", 40,
            "top-p", 1.0, "temperature", 1.0, "save-every", 100, "keep-checkpoints", 1, "export-stages", "all",
            "export-format", "torchscript", "drift", "fisher", "divergence-factor", 10.0,
            "device", "auto", "eval-tasks", null, "task-format", null, "num-fewshot", 0,
            "fewshot-seed", 1234L, "task-limit", 0, "bootstrap-iters", 100000, "precision",
            "fp32", "task-free", false, "consolidate", "plateau", "recent-windows", 32,
            "hard-windows", 16, "eval-every-tokens", 0L, "max-steps", 0, "plateau-window", 10,
            "plateau-peak", 3.0, "plateau-stable", 0.02, "plateau-floor", 0.01, "window-order",
            "shuffled", "replay-from", "stream", "replay-hard", 0};
        for (int i = 0; i < kv.length; i += 2) {
            d.put((String) kv[i], kv[i + 1]);
        }
        assertEquals(d, TrainConfig.defaults().asMap());
        assertEquals(d.keySet(), new java.util.HashSet<>(TrainConfig.TABLE.names()));
    }

    @Test
    void settingsFileKeysAreTheNamesOrTheirAliases() throws IOException {
        Path f = tmp.resolve("c.yaml");
        Files.writeString(f, "learning-rate: 0.01\nhidden: [16, 8]\n");
        SettingsFile.Parsed p = SettingsFile.read(f);
        Map<String, Object> v = TABLE.valuesFrom(p, p.root(), "", Map.of());
        assertEquals(0.01, v.get("learning-rate"));
        assertArrayEquals(new int[] {16, 8}, (int[]) v.get("hidden"));
        Files.writeString(f, "lr: 0.02\nrate: 1\n"); // an alias works in files too
        SettingsFile.Parsed q = SettingsFile.read(f);
        assertTrue(error(() -> TABLE.valuesFrom(q, q.root(), "", Map.of()))
                .startsWith(f + ":2: unknown setting 'rate'"));
        Files.writeString(f, "lr: 0.02\n");
        SettingsFile.Parsed r = SettingsFile.read(f);
        assertEquals(0.02, TABLE.valuesFrom(r, r.root(), "", Map.of()).get("learning-rate"));
    }
}
