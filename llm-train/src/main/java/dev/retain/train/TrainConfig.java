package dev.retain.train;

import dev.retain.core.UserError;
import dev.retain.train.config.CommonKeys;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyGroup;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;
import dev.retain.train.config.SettingsFile;
import dev.retain.train.lifecycle.DefaultFlow;
import dev.retain.train.lifecycle.DriftRecorder;
import dev.retain.train.lifecycle.StageEvaluation;
import dev.retain.train.lifecycle.StageExport;
import dev.retain.train.lifecycle.StagePrompts;
import dev.retain.train.lifecycle.TaskProbes;
import dev.retain.train.lm.EwcPlugin;
import dev.retain.train.lm.GeneralReplayPlugin;
import dev.retain.train.lm.ReplayPlugin;
import dev.retain.train.lm.Strategies;
import dev.retain.train.optim.AdamW;
import dev.retain.train.optim.Schedule;
import dev.retain.train.stream.PlateauDetector;
import dev.retain.train.stream.StreamKeys;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every setting of a continual training run, immutable, built once from flags or a settings file
 * and stamped into every checkpoint and report. Each setting is declared once, by the class that
 * uses it: the loop's below ({@link #KEYS}), the learning-rate schedule's in {@link Schedule},
 * the optimizer's in {@link AdamW}, each strategy plugin's in its class (registered in {@link
 * Strategies}), the lifecycle plugins' in theirs; {@link #TABLE} is their union, in help order.
 * A value is read with its key: {@code config.get(TrainConfig.BATCH_SIZE)}.
 *
 * <p>The defaults for learning rate, EWC lambda and the replay ratio and budget were chosen by
 * measurement on the shipped domains with the shipped small model (docs/TRAINING.md, "Choosing
 * the defaults").
 */
public final class TrainConfig {

    /** The most optimizer steps a domain may take: a plan the time estimates can state. */
    static final int MAX_STEPS = 10_000_000;

    /** The loop's own settings. */
    public static final KeyGroup KEYS = new KeyGroup();

    /** Windows per micro-batch: new and replayed together with replace, new ones with add. */
    public static final Key<Integer> BATCH_SIZE = KEYS.add(Key.integer("batch-size", 8, 1,
            "windows", "windows per micro-batch, new and replayed together").max(1 << 16));
    /** Micro-batches per optimizer step. */
    public static final Key<Integer> GRAD_ACCUM = KEYS.add(Key.integer("grad-accum", 1, 1,
            "micro-batches", "micro-batches per optimizer step").max(1 << 16));
    /** Optimizer steps per domain (when {@link #EPOCHS} is 0). */
    public static final Key<Integer> MAX_STEPS_PER_DOMAIN = KEYS.add(Key.integer(
            "max-steps-per-domain", 200, 1, "steps", "optimizer steps per domain (when --epochs"
                    + " is 0)").max(MAX_STEPS));
    /** Whether a domain's windows are shuffled. */
    public static final Key<String> WINDOW_ORDER = KEYS.add(Key.choice("window-order", "shuffled",
            List.of("shuffled", "in-order"), "the order each domain's training windows are read"
                    + " in: shuffled (anew every epoch, by the seed) or in-order (as in the train"
                    + " split: a .jsonl split with --time-field is in time order)"));
    /** Passes over each domain's train split; 0 = use {@link #MAX_STEPS_PER_DOMAIN}. */
    public static final Key<Double> EPOCHS = KEYS.add(Key.real("epochs", 0.0, 0, false, "passes"
            + " over each train split; 0 = use --max-steps-per-domain").unit("passes").max(1000));
    /** Tokens per training window; 0 = the model's context. */
    public static final Key<Integer> SEQ_LEN = KEYS.add(Key.integer("seq-len", 0, 0, "tokens",
            "tokens per training window; 0 = the model's context").max(1 << 20));
    /** The one seed every random choice of the run derives from. */
    public static final Key<Long> SEED = KEYS.add(CommonKeys.SEED.help("seed of every random"
            + " choice (data order, replay, Fisher sampling)"));
    /** Parameters left untrained: a regular expression searched in their names. */
    public static final Key<String> FREEZE = KEYS.add(Key.pattern("freeze", "", "parameters left"
            + " untrained with every strategy: a regular expression searched in each parameter's"
            + " name (e.g. 'wte|wpe' for the embeddings, 'h\\.[0-5]\\.' for the lower blocks);"
            + " they get no gradient, no update and no optimizer state"));
    /** How replayed windows (replay, joint, general) share a micro-batch with new ones. */
    public static final Key<String> REPLAY_MODE = KEYS.add(Key.text("replay-mode", "add", "add or"
            + " replace: the replayed windows take their share of the batch (replace: the same"
            + " compute as naive, fewer new tokens) or come on top of a full batch of new"
            + " windows (add: the same new tokens as naive, more compute per step; see"
            + " docs/TRAINING.md, 'Strategies compared')").metavar("MODE"));
    /** Verified checkpoints kept. */
    public static final Key<Integer> KEEP_CHECKPOINTS = KEYS.add(Key.integer("keep-checkpoints",
            1, 1, "checkpoints", "verified checkpoints kept, the newest first; with 2 or more a"
                    + " resume falls back to the previous one when the newest is damaged (1"
                    + " protects against a crash while one is written)").max(1000));
    /** The loss bound of the divergence guard. */
    public static final Key<Double> DIVERGENCE_FACTOR = KEYS.add(Key.real("divergence-factor",
            10.0, 0, false, "stop the run as diverged (exit 3) when a step's loss exceeds this"
                    + " times the loss of the domain's first step; 0 = only when the loss is not"
                    + " finite"));
    /** Where the run computes. */
    public static final Key<String> DEVICE = KEYS.add(CommonKeys.DEVICE);
    /** The number format of the run's forward and backward passes. */
    public static final Key<String> PRECISION = KEYS.add(CommonKeys.PRECISION);

    /** All settings, in the order help lists them. Defaults are in the declarations only. */
    public static final KeyTable TABLE = KeyTable.of(Strategies.KEYS, Schedule.KEYS, KEYS,
            AdamW.KEYS, Strategies.COMPONENT_KEYS, GeneralReplayPlugin.KEYS, DefaultFlow.KEYS,
            StageEvaluation.KEYS, StagePrompts.KEYS, TaskProbes.KEYS, StageExport.KEYS,
            DriftRecorder.KEYS, StreamKeys.KEYS, PlateauDetector.KEYS);

    private final Settings settings;

    private TrainConfig(Settings settings) {
        this.settings = settings;
    }

    /**
     * @param <T> the value's type
     * @param key a key of {@link #TABLE}
     * @return its value
     */
    public <T> T get(Key<T> key) {
        return settings.get(key);
    }

    /** @return the typed settings (what plugins are built from) */
    public Settings settings() {
        return settings;
    }

    /** @return the default configuration */
    public static TrainConfig defaults() {
        return fromValues(Map.of(), "defaults");
    }

    /**
     * Builds a configuration from typed values; missing keys take their defaults.
     *
     * @param values key name to typed value (from {@link Key#parse})
     * @param where where the values came from, for messages
     * @return the configuration
     */
    public static TrainConfig fromValues(Map<String, Object> values, String where) {
        TrainConfig c = new TrainConfig(TABLE.settings(TABLE.complete(values, where)));
        c.validate(where);
        return c;
    }

    private void validate(String where) {
        String mode = get(REPLAY_MODE);
        if (!mode.equals("replace") && !mode.equals("add")) {
            throw new UserError(where + ": replay-mode " + mode + ": use replace or add");
        }
        if (get(Schedule.DECAY_FRACTION) > 1) {
            throw new UserError(where + ": decay-fraction " + get(Schedule.DECAY_FRACTION)
                    + " must be at most 1 (the share of a domain's steps)");
        }
        if (get(AdamW.BETA1) >= 1 || get(AdamW.BETA2) >= 1) {
            throw new UserError(where + ": adam-beta1 and adam-beta2 must be below 1");
        }
        List<String> parts = Strategies.components(get(Strategies.STRATEGY));
        if (!get(EwcPlugin.PRIOR).isEmpty() && !parts.contains("ewc")) {
            throw new UserError(where + ": ewc-prior needs an EWC strategy (ewc or ewc+replay)");
        }
        if (get(StreamKeys.TASK_FREE)) {
            StreamKeys.Rule.parse(get(StreamKeys.CONSOLIDATE), where);
            if (parts.contains("joint")) {
                throw new UserError(where + ": strategy joint trains on every domain seen so far,"
                        + " which needs the boundaries a task-free run does not have; use naive,"
                        + " replay, ewc, ewc+replay, l2 or lwf");
            }
        }
        ReplayPlugin.check(get(ReplayPlugin.RATIO), mode.equals("add"), get(BATCH_SIZE),
                get(GRAD_ACCUM), parts.contains("replay"), where);
    }

    /**
     * Reads settings from a parsed file's object (unknown keys rejected with their line).
     *
     * @param parsed the file
     * @param node the object holding settings
     * @param pointer its JSON pointer
     * @param base values that the file's values override (e.g. defaults of an experiment)
     * @return typed values
     */
    public static Map<String, Object> valuesFrom(SettingsFile.Parsed parsed, JsonNode node,
            String pointer, Map<String, Object> base) {
        return TABLE.valuesFrom(parsed, node, pointer, base);
    }

    /**
     * The settings as a flat map of key to value, in {@link #TABLE} order, for JSON.
     *
     * @return the map
     */
    public Map<String, Object> asMap() {
        return settings.asMap();
    }

    /**
     * Reads a configuration back from its {@link #asMap()} JSON (a checkpoint or results file).
     *
     * @param node the JSON object
     * @param where for messages
     * @return the configuration
     */
    public static TrainConfig fromJson(JsonNode node, String where) {
        return fromValues(TABLE.fromJson(node, where), where);
    }

    /**
     * Returns a copy with some settings replaced.
     *
     * @param changes key name to typed value
     * @return the new configuration
     */
    public TrainConfig with(Map<String, Object> changes) {
        Map<String, Object> m = new LinkedHashMap<>();
        asMap().forEach((k, v) -> {
            if (v != null) { // a key without a default (eval-tasks) stays unset
                m.put(k, v);
            }
        });
        m.putAll(changes);
        return fromValues(m, "settings");
    }

    /**
     * Returns a copy with one setting replaced.
     *
     * @param <T> the value's type
     * @param key the key
     * @param value its new value
     * @return the new configuration
     */
    public <T> TrainConfig with(Key<T> key, T value) {
        return with(Map.of(key.name(), value));
    }

    /** @return the settings as a JSON object */
    public ObjectNode toJson() {
        return settings.toJson();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrainConfig c && c.asMap().equals(asMap());
    }

    @Override
    public int hashCode() {
        return asMap().hashCode();
    }

    @Override
    public String toString() {
        return asMap().toString();
    }
}
