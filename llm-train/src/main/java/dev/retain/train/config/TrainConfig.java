package dev.retain.train.config;

import dev.retain.core.UserError;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every setting of a continual training run, immutable, built once from flags or a settings file
 * and stamped into every checkpoint and report. Defaults live in {@link #KEYS} and nowhere else.
 *
 * <p>The defaults for learning rate, EWC lambda and the replay ratio and budget were chosen by
 * measurement on the shipped domains with the shipped small model (see README, "Choosing the
 * defaults").
 *
 * @param strategy naive, ewc, replay or ewc+replay
 * @param learningRate peak AdamW learning rate
 * @param batchSize windows per micro-batch (new and replayed together)
 * @param gradAccum micro-batches per optimizer step
 * @param maxStepsPerDomain optimizer steps per domain (used when epochs is 0)
 * @param epochs passes over each domain's train split; 0 to use maxStepsPerDomain
 * @param warmupSteps linear warm-up steps at the start of every domain
 * @param minLrRatio the cosine decay ends at this fraction of the peak learning rate
 * @param weightDecay decoupled (AdamW) weight decay
 * @param decayAll apply weight decay to biases and LayerNorm weights too
 * @param maxGradNorm global gradient-norm clip; 0 disables
 * @param beta1 AdamW beta1
 * @param beta2 AdamW beta2
 * @param adamEps AdamW epsilon
 * @param seqLen tokens per training window; 0 for the model's context
 * @param seed the one seed every random choice derives from
 * @param ewcLambda EWC strength lambda in lambda/2 sum F (theta - theta*)^2
 * @param ewcGamma online-EWC decay: F = gamma F_old + F_new (1 = plain sum)
 * @param fisherSamples sequences of the finished domain the Fisher is estimated over
 * @param fisherMode empirical (true next tokens) or sampled (tokens drawn from the model)
 * @param fisherBatched square mini-batch gradients instead of per-sequence ones
 * @param ewcPrior a Fisher file ({@code retain fisher}) to consolidate before the first domain,
 *     or empty
 * @param ewcExclude a regular expression: parameters whose names contain a match are left out of
 *     EWC (no Fisher, no anchor, no penalty); empty = every trained parameter
 * @param replayTokens replay buffer budget in tokens
 * @param replayRatio share of each step's tokens that are replayed
 * @param evalEvery evaluate valid splits every this many steps (0 = only at domain ends)
 * @param evalWindows windows per domain for those evaluations
 * @param testWindows windows per domain in the stage evaluations (0 = the whole test split)
 * @param saveEvery checkpoint every this many steps (and at each domain end)
 * @param device cpu, gpu or auto
 */
public record TrainConfig(
        String strategy,
        double learningRate,
        int batchSize,
        int gradAccum,
        int maxStepsPerDomain,
        double epochs,
        int warmupSteps,
        double minLrRatio,
        double weightDecay,
        boolean decayAll,
        double maxGradNorm,
        double beta1,
        double beta2,
        double adamEps,
        int seqLen,
        long seed,
        double ewcLambda,
        double ewcGamma,
        int fisherSamples,
        String fisherMode,
        boolean fisherBatched,
        String ewcPrior,
        String ewcExclude,
        long replayTokens,
        double replayRatio,
        int evalEvery,
        int evalWindows,
        int testWindows,
        int saveEvery,
        String device) {

    /** The strategies, each a preset list of plugins. */
    public static final List<String> STRATEGIES = List.of("naive", "ewc", "replay", "ewc+replay");

    /** Value types of settings. */
    public enum Type { INT, LONG, REAL, BOOL, CHOICE, TEXT, PATTERN }

    /**
     * One setting: its name (the flag without {@code --}, and the key in settings files), type,
     * default, unit and help.
     *
     * @param name e.g. {@code learning-rate}
     * @param type the value type
     * @param dflt the default
     * @param unit the unit shown in help, may be empty
     * @param help what it does
     * @param choices allowed values of a CHOICE
     * @param min the smallest allowed value (numbers)
     * @param exclusiveMin whether min itself is refused
     */
    public record Key(String name, Type type, Object dflt, String unit, String help,
            List<String> choices, double min, boolean exclusiveMin) {

        /** @return the default as shown in help; an empty text (no file) shows as "none" */
        public String defaultText() {
            if ("".equals(dflt)) {
                return "none";
            }
            return String.valueOf(dflt) + (unit.isEmpty() ? "" : " " + unit);
        }
    }

    private static Key key(String name, Type type, Object dflt, String unit, String help,
            double min, boolean exclusiveMin) {
        return new Key(name, type, dflt, unit, help, List.of(), min, exclusiveMin);
    }

    /** All settings, in the order help lists them. Defaults are here and only here. */
    public static final List<Key> KEYS = List.of(
            new Key("strategy", Type.CHOICE, "naive", "", "naive, ewc, replay or ewc+replay",
                    STRATEGIES, 0, false),
            key("learning-rate", Type.REAL, 2e-3, "", "peak AdamW learning rate (chosen by"
                    + " measurement on the shipped small model and domains; see README)", 0,
                    true),
            key("batch-size", Type.INT, 8, "windows", "windows per micro-batch, new and replayed"
                    + " together", 1, false),
            key("grad-accum", Type.INT, 1, "micro-batches", "micro-batches per optimizer step", 1,
                    false),
            key("max-steps-per-domain", Type.INT, 200, "steps", "optimizer steps per domain (when"
                    + " --epochs is 0)", 1, false),
            key("epochs", Type.REAL, 0.0, "passes", "passes over each train split; 0 = use"
                    + " --max-steps-per-domain", 0, false),
            key("warmup-steps", Type.INT, 20, "steps", "linear warm-up at the start of every"
                    + " domain, then cosine decay", 0, false),
            key("min-lr-ratio", Type.REAL, 0.1, "", "cosine decay ends at this fraction of the"
                    + " peak learning rate", 0, false),
            key("weight-decay", Type.REAL, 0.01, "", "decoupled (AdamW) weight decay; not applied"
                    + " to biases and LayerNorm weights unless --decay-all", 0, false),
            key("decay-all", Type.BOOL, false, "", "apply weight decay to biases and LayerNorm"
                    + " weights too", 0, false),
            key("max-grad-norm", Type.REAL, 1.0, "", "clip the global gradient L2 norm to this;"
                    + " 0 disables", 0, false),
            key("adam-beta1", Type.REAL, 0.9, "", "AdamW beta1", 0, false),
            key("adam-beta2", Type.REAL, 0.999, "", "AdamW beta2", 0, false),
            key("adam-eps", Type.REAL, 1e-8, "", "AdamW epsilon", 0, true),
            key("seq-len", Type.INT, 0, "tokens", "tokens per training window; 0 = the model's"
                    + " context", 0, false),
            key("seed", Type.LONG, 1234L, "", "seed of every random choice (data order, replay,"
                    + " Fisher sampling)", Long.MIN_VALUE, false),
            key("ewc-lambda", Type.REAL, 2000.0, "", "EWC strength: lambda/2 * sum F (theta -"
                    + " theta*)^2 (measured on the shipped domains: 1e2 barely acts, 1e4 costs"
                    + " plasticity); batched Fisher needs a larger lambda", 0, true),
            key("ewc-gamma", Type.REAL, 1.0, "", "online EWC: F = gamma*F_old + F_new (1 = plain"
                    + " sum)", 0, false),
            key("fisher-samples", Type.INT, 64, "sequences", "sequences of the finished domain"
                    + " the diagonal Fisher is estimated over", 1, false),
            new Key("fisher-mode", Type.CHOICE, "empirical", "", "empirical (gradient of the NLL"
                    + " of the true next tokens) or sampled (next tokens drawn from the model: the"
                    + " true Fisher)", List.of("empirical", "sampled"), 0, false),
            key("fisher-batched", Type.BOOL, false, "", "square mini-batch gradients (cheaper;"
                    + " needs a larger --ewc-lambda, roughly x batch size) instead of"
                    + " per-sequence ones", 0, false),
            new Key("ewc-prior", Type.TEXT, "", "", "Fisher file from retain fisher (e.g. of the"
                    + " base model on general text) that EWC protects from the first domain on",
                    List.of(), 0, false),
            new Key("ewc-exclude", Type.PATTERN, "", "", "parameters EWC leaves free: a regular"
                    + " expression found in their names, e.g. 'wte|wpe' (the token and position"
                    + " embeddings; GPT-2's output layer shares the token embedding); none = every"
                    + " trained parameter, as in Kirkpatrick et al. Measured on the demo: with"
                    + " replay, 'wte|wpe' forgets less at less cost to the newest domain (README)",
                    List.of(), 0, false),
            key("replay-tokens", Type.LONG, 32768L, "tokens", "replay buffer budget, shared"
                    + " equally by earlier domains (measured: enough for the shipped domains)", 0,
                    true),
            key("replay-ratio", Type.REAL, 0.25, "", "share of each step's tokens that are"
                    + " replayed, below 1, rounded to whole windows of the batch (batch 8: 0.25 = 2"
                    + " windows). Measured on computing then legal: 0.25 keeps legal within 8% of"
                    + " naive; after the four demo domains the last ends 12% worse than naive"
                    + " with 0.25 and 6% with 0.125, which forgets more (README)",
                    0, true),
            key("eval-every", Type.INT, 0, "steps", "also evaluate every domain's valid split"
                    + " every N steps; 0 = off", 0, false),
            key("eval-windows", Type.INT, 8, "windows", "windows per domain in those"
                    + " evaluations", 1, false),
            key("test-windows", Type.INT, 0, "windows", "windows per domain in the evaluation"
                    + " after each stage; 0 = the whole test split (the exact protocol)", 0,
                    false),
            key("save-every", Type.INT, 100, "steps", "checkpoint every N steps (and at every"
                    + " domain end)", 1, false),
            new Key("device", Type.CHOICE, "auto", "", "cpu, gpu or auto",
                    List.of("cpu", "gpu", "auto"), 0, false));

    /** @return the default configuration */
    public static TrainConfig defaults() {
        return fromValues(new LinkedHashMap<>(), "defaults");
    }

    /**
     * Finds a key.
     *
     * @param name its name
     * @return the key, or null
     */
    public static Key keyOf(String name) {
        for (Key k : KEYS) {
            if (k.name().equals(name)) {
                return k;
            }
        }
        return null;
    }

    /** @return all key names */
    public static List<String> names() {
        List<String> n = new ArrayList<>();
        KEYS.forEach(k -> n.add(k.name()));
        return n;
    }

    /**
     * Parses one value given as text (a flag) or JSON (a settings file).
     *
     * @param k the key
     * @param raw the value
     * @param where where it came from, for messages (e.g. {@code --ewc-lambda} or {@code
     *     exp.yaml:12})
     * @return the typed value
     */
    public static Object parse(Key k, JsonNode raw, String where) {
        String text = raw.isValueNode() ? raw.asText() : raw.toString();
        try {
            switch (k.type()) {
                case INT:
                case LONG: {
                    if (raw.isNumber() && !raw.isIntegralNumber()
                            && raw.asDouble() != Math.rint(raw.asDouble())) {
                        throw new NumberFormatException();
                    }
                    long v = raw.isNumber() ? raw.asLong()
                            : (long) parseNumber(text.trim().replace("_", ""));
                    check(k, v, where, text);
                    if (k.type() == Type.INT) {
                        if (v > Integer.MAX_VALUE) {
                            throw new NumberFormatException();
                        }
                        return (int) v;
                    }
                    return v;
                }
                case REAL: {
                    double v = raw.isNumber() ? raw.asDouble() : Double.parseDouble(text.trim());
                    check(k, v, where, text);
                    return v;
                }
                case BOOL:
                    if (raw.isBoolean()) {
                        return raw.asBoolean();
                    }
                    if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
                        return Boolean.parseBoolean(text);
                    }
                    throw new UserError(where + ": " + k.name() + " must be true or false, got '"
                            + text + "'");
                case TEXT:
                    if (!raw.isTextual()) {
                        throw new NumberFormatException();
                    }
                    return raw.asText();
                case PATTERN:
                    if (!raw.isTextual()) {
                        throw new NumberFormatException();
                    }
                    try {
                        java.util.regex.Pattern.compile(raw.asText());
                    } catch (java.util.regex.PatternSyntaxException e) {
                        throw new UserError(where + ": " + k.name() + " '" + text + "' is not a"
                                + " regular expression (" + e.getDescription() + "); for example"
                                + " 'wte|wpe'", e);
                    }
                    return raw.asText();
                case CHOICE:
                default:
                    if (!raw.isTextual() && !raw.isValueNode()) {
                        throw new NumberFormatException();
                    }
                    String s = text.trim().toLowerCase(Locale.ROOT);
                    if (!k.choices().contains(s)) {
                        throw new UserError(where + ": unknown " + k.name() + " '" + text
                                + "'; expected one of " + String.join(", ", k.choices()));
                    }
                    return s;
            }
        } catch (NumberFormatException e) {
            throw new UserError(where + ": " + k.name() + " must be "
                    + (k.type() == Type.REAL ? "a number" : k.type() == Type.INT
                            || k.type() == Type.LONG ? "a whole number" : "text") + ", got '"
                    + text + "'");
        }
    }

    private static double parseNumber(String s) {
        double d = Double.parseDouble(s);
        if (d != Math.rint(d)) {
            throw new NumberFormatException();
        }
        return d;
    }

    private static void check(Key k, double v, String where, String text) {
        if (!Double.isFinite(v)) {
            throw new UserError(where + ": " + k.name() + " must be a finite number, got " + text);
        }
        if (k.exclusiveMin() ? v <= k.min() : v < k.min()) {
            throw new UserError(where + ": " + k.name() + " " + text + " must be "
                    + (k.exclusiveMin() ? "greater than " : "at least ") + fmt(k.min()));
        }
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }

    /**
     * Builds a configuration from typed values; missing keys take their defaults.
     *
     * @param values key name to typed value (from {@link #parse})
     * @param where where the values came from, for messages
     * @return the configuration
     */
    public static TrainConfig fromValues(Map<String, Object> values, String where) {
        Map<String, Object> v = new LinkedHashMap<>();
        for (Key k : KEYS) {
            v.put(k.name(), values.containsKey(k.name()) ? values.get(k.name()) : k.dflt());
        }
        for (String k : values.keySet()) {
            if (keyOf(k) == null) {
                throw new UserError(where + ": unknown setting '" + k + "'");
            }
        }
        TrainConfig c = new TrainConfig(
                (String) v.get("strategy"), (double) v.get("learning-rate"),
                (int) v.get("batch-size"), (int) v.get("grad-accum"),
                (int) v.get("max-steps-per-domain"), (double) v.get("epochs"),
                (int) v.get("warmup-steps"), (double) v.get("min-lr-ratio"),
                (double) v.get("weight-decay"), (boolean) v.get("decay-all"),
                (double) v.get("max-grad-norm"), (double) v.get("adam-beta1"),
                (double) v.get("adam-beta2"), (double) v.get("adam-eps"),
                (int) v.get("seq-len"), (long) v.get("seed"), (double) v.get("ewc-lambda"),
                (double) v.get("ewc-gamma"), (int) v.get("fisher-samples"),
                (String) v.get("fisher-mode"), (boolean) v.get("fisher-batched"),
                (String) v.get("ewc-prior"), (String) v.get("ewc-exclude"),
                (long) v.get("replay-tokens"), (double) v.get("replay-ratio"),
                (int) v.get("eval-every"), (int) v.get("eval-windows"),
                (int) v.get("test-windows"),
                (int) v.get("save-every"), (String) v.get("device"));
        c.validate(where);
        return c;
    }

    private void validate(String where) {
        if (!ewcPrior.isEmpty() && !usesEwc()) {
            throw new UserError(where + ": ewc-prior needs an EWC strategy (ewc or ewc+replay)");
        }
        if (replayRatio >= 1) {
            throw new UserError(where + ": replay-ratio " + replayRatio + " must be below 1 (a"
                    + " step needs some new tokens)");
        }
        if (beta1 >= 1 || beta2 >= 1) {
            throw new UserError(where + ": adam-beta1 and adam-beta2 must be below 1");
        }
        if (usesReplay() && Math.round(batchSize * replayRatio) >= batchSize) {
            throw new UserError(where + ": with batch-size " + batchSize + " a replay-ratio of "
                    + replayRatio + " leaves no new windows; lower the ratio or raise the batch");
        }
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
    public static Map<String, Object> valuesFrom(Settings.Parsed parsed, JsonNode node,
            String pointer, Map<String, Object> base) {
        parsed.rejectUnknown(node, pointer, names(), "setting");
        Map<String, Object> out = new LinkedHashMap<>(base);
        for (var it = node.fields(); it.hasNext(); ) {
            var e = it.next();
            out.put(e.getKey(), parse(keyOf(e.getKey()), e.getValue(),
                    parsed.at(pointer + "/" + e.getKey())));
        }
        return out;
    }

    /** @return whether the strategy includes EWC */
    public boolean usesEwc() {
        return strategy.contains("ewc");
    }

    /** @return whether the strategy includes replay */
    public boolean usesReplay() {
        return strategy.contains("replay");
    }

    /** @return replayed windows per micro-batch (the rest are new) */
    public int replayRows() {
        return usesReplay() ? (int) Math.round(batchSize * replayRatio) : 0;
    }

    /**
     * The settings as a flat map of key to value, in {@link #KEYS} order, for JSON.
     *
     * @return the map
     */
    public Map<String, Object> asMap() {
        Object[] vals = {strategy, learningRate, batchSize, gradAccum, maxStepsPerDomain, epochs,
            warmupSteps, minLrRatio, weightDecay, decayAll, maxGradNorm, beta1, beta2, adamEps,
            seqLen, seed, ewcLambda, ewcGamma, fisherSamples, fisherMode, fisherBatched,
            ewcPrior, ewcExclude, replayTokens, replayRatio, evalEvery, evalWindows, testWindows, saveEvery,
            device};
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < KEYS.size(); i++) {
            m.put(KEYS.get(i).name(), vals[i]);
        }
        return Collections.unmodifiableMap(m);
    }

    /**
     * Reads a configuration back from its {@link #asMap()} JSON (a checkpoint or results file).
     *
     * @param node the JSON object
     * @param where for messages
     * @return the configuration
     */
    public static TrainConfig fromJson(JsonNode node, String where) {
        Map<String, Object> vals = new LinkedHashMap<>();
        for (var it = node.fields(); it.hasNext(); ) {
            var e = it.next();
            Key k = keyOf(e.getKey());
            if (k == null) {
                throw new UserError(where + ": unknown setting '" + e.getKey() + "'");
            }
            vals.put(k.name(), parse(k, e.getValue(), where));
        }
        return fromValues(vals, where);
    }

    /**
     * Returns a copy with some settings replaced.
     *
     * @param changes key to typed value
     * @return the new configuration
     */
    public TrainConfig with(Map<String, Object> changes) {
        Map<String, Object> m = new LinkedHashMap<>(asMap());
        m.putAll(changes);
        return fromValues(m, "settings");
    }

    /** @return the settings as a JSON object */
    public ObjectNode toJson() {
        return dev.retain.core.util.Json.MAPPER.valueToTree(asMap());
    }
}
