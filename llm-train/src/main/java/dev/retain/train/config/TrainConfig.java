package dev.retain.train.config;

import dev.retain.core.UserError;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every setting of a continual training run, immutable, built once from flags or a settings file
 * and stamped into every checkpoint and report. Every setting is declared once, in {@link #TABLE}:
 * its flag, file key, help, default and range.
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
 * @param schedule the learning rate within a domain: cosine, wsd or constant
 * @param decayFraction wsd: the share of a domain's steps its decay takes
 * @param rewarm on: every domain starts with the warm-up; off: only the first
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
 * @param l2Lambda strength of the l2 strategy: lambda/2 sum (theta - theta_prev)^2
 * @param lwfWeight lwf: the weight of the distillation term
 * @param lwfTemperature lwf: the softmax temperature T of the distillation
 * @param lwfOn lwf: the rows distilled: new, replay or both
 * @param fisherSamples sequences of the finished domain the Fisher is estimated over
 * @param fisherMode empirical (true next tokens) or sampled (tokens drawn from the model)
 * @param fisherBatched square mini-batch gradients instead of per-sequence ones
 * @param ewcPrior a Fisher file ({@code retain fisher}) to consolidate before the first domain,
 *     or empty
 * @param ewcExclude a regular expression: parameters whose names contain a match are left out of
 *     EWC (no Fisher, no anchor, no penalty); empty = every trained parameter
 * @param freeze parameters left untrained (a regular expression found in their names; empty:
 *     none)
 * @param replayTokens replay buffer budget in tokens
 * @param replayRatio share of each step's tokens that are replayed
 * @param replayMode replace: replayed windows take part of the batch; add: they come on top of
 *     a full batch of new windows
 * @param generalRatio with a general-data source: the share of each batch replayed from it
 * @param evalEvery evaluate valid splits every this many steps (0 = only at domain ends)
 * @param evalWindows windows per domain for those evaluations
 * @param testWindows windows per domain in the stage evaluations (0 = the whole test split)
 * @param saveEvery checkpoint every this many steps (and at each domain end)
 * @param keepCheckpoints how many verified checkpoints to keep (the newest first)
 * @param exportStages which stage models to export: all, last or none
 * @param exportFormat the stage models' form: torchscript ({@code stage-K-DOMAIN.pt}),
 *     safetensors (a Hugging Face folder {@code stage-K-DOMAIN/}) or both
 * @param drift the drift map's weighting: fisher, plain (F = 1) or off
 * @param divergenceFactor a step whose loss exceeds this times the loss of the domain's first
 *     step stops the run as diverged (0 = only a non-finite loss does)
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
        String schedule,
        double decayFraction,
        String rewarm,
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
        double l2Lambda,
        double lwfWeight,
        double lwfTemperature,
        String lwfOn,
        int fisherSamples,
        String fisherMode,
        boolean fisherBatched,
        String ewcPrior,
        String ewcExclude,
        String freeze,
        long replayTokens,
        double replayRatio,
        String replayMode,
        double generalRatio,
        int evalEvery,
        int evalWindows,
        int testWindows,
        int saveEvery,
        int keepCheckpoints,
        String exportStages,
        String exportFormat,
        String drift,
        double divergenceFactor,
        String device) {

    /** The strategies, each a preset list of plugins. */
    public static final List<String> STRATEGIES = dev.retain.train.lm.Strategies.names();

    /** All settings, in the order help lists them. Defaults are here and only here. */
    public static final KeyTable TABLE = KeyTable.of(
            Key.choice("strategy", "naive", STRATEGIES, String.join(", ", STRATEGIES)
                    + " (a strategy is its plugins joined by +)").metavar("NAME"),
            Key.real("learning-rate", 2e-3, 0, true, "peak AdamW learning rate"),
            Key.integer("batch-size", 8, 1, "windows", "windows per micro-batch, new and"
                    + " replayed together"),
            Key.integer("grad-accum", 1, 1, "micro-batches", "micro-batches per optimizer step"),
            Key.integer("max-steps-per-domain", 200, 1, "steps", "optimizer steps per domain"
                    + " (when --epochs is 0)"),
            Key.real("epochs", 0.0, 0, false, "passes over each train split; 0 = use"
                    + " --max-steps-per-domain").unit("passes"),
            Key.integer("warmup-steps", 20, 0, "steps", "linear warm-up at the start of every"
                    + " domain, then cosine decay"),
            Key.real("min-lr-ratio", 0.1, 0, false, "cosine decay ends at this fraction of the"
                    + " peak learning rate"),
            Key.choice("schedule", "cosine", List.of("cosine", "wsd", "constant"), "the"
                    + " learning rate within each domain after the warm-up: cosine (decay to"
                    + " --min-lr-ratio at the domain's last step), wsd (warm-up, stable at the peak,"
                    + " then a linear decay to --min-lr-ratio over the last --decay-fraction of the"
                    + " domain's steps) or constant (the peak)"),
            Key.real("decay-fraction", 0.2, 0, true, "wsd: the share of each domain's steps"
                    + " that the final decay takes"),
            Key.choice("rewarm", "on", List.of("on", "off"), "on: every domain starts with"
                    + " the warm-up again (re-warming after the shift to a new domain); off: only"
                    + " the first domain warms up, later ones start at the peak"),
            Key.real("weight-decay", 0.01, 0, false, "decoupled (AdamW) weight decay; not applied"
                    + " to biases and LayerNorm weights unless --decay-all"),
            Key.flag("decay-all", "apply weight decay to biases and LayerNorm weights too"),
            Key.real("max-grad-norm", 1.0, 0, false, "clip the global gradient L2 norm to this;"
                    + " 0 disables"),
            Key.real("adam-beta1", 0.9, 0, false, "AdamW beta1"),
            Key.real("adam-beta2", 0.999, 0, false, "AdamW beta2"),
            Key.real("adam-eps", 1e-8, 0, true, "AdamW epsilon"),
            Key.integer("seq-len", 0, 0, "tokens", "tokens per training window; 0 = the model's"
                    + " context"),
            Key.longInteger("seed", 1234L, Long.MIN_VALUE, "", "seed of every random choice (data"
                    + " order, replay, Fisher sampling)"),
            Key.real("ewc-lambda", 2000.0, 0, true, "EWC strength: lambda/2 * sum F (theta -"
                    + " theta*)^2; a batched Fisher needs a larger lambda"),
            Key.real("ewc-gamma", 1.0, 0, false, "online EWC: F = gamma*F_old + F_new (1 = plain"
                    + " sum)"),
            Key.real("l2-lambda", 1.0, 0, true, "strength of the l2 strategy: lambda/2 * sum"
                    + " (theta - theta_prev)^2, theta_prev the weights at the previous domain's end"),
            Key.real("lwf-weight", 1.0, 0, false, "lwf: weight of the distillation term (KL"
                    + " between the model at the previous domain's end and now, times T^2)"),
            Key.real("lwf-temperature", 2.0, 0, true, "lwf: softmax temperature T of both"
                    + " distributions (1 = the model's own)"),
            Key.choice("lwf-on", "both", List.of("new", "replay", "both"), "lwf: which windows"
                    + " the distillation term covers: the new ones, the replayed ones or both"),
            Key.integer("fisher-samples", 64, 1, "sequences", "sequences of the finished domain"
                    + " the diagonal Fisher is estimated over"),
            Key.choice("fisher-mode", "empirical", List.of("empirical", "sampled"), "empirical"
                    + " (gradient of the NLL of the true next tokens) or sampled (next tokens drawn"
                    + " from the model: the true Fisher)"),
            Key.flag("fisher-batched", "square mini-batch gradients (cheaper; needs a larger"
                    + " --ewc-lambda, roughly x batch size) instead of per-sequence ones"),
            Key.text("ewc-prior", "", "Fisher file from retain fisher (e.g. of the base model on"
                    + " general text) that EWC protects from the first domain on").metavar("FILE"),
            Key.pattern("ewc-exclude", "", "parameters EWC leaves free: a regular expression"
                    + " found in their names, e.g. 'wte|wpe' (the token and position embeddings;"
                    + " GPT-2's output layer shares the token embedding); none = every trained"
                    + " parameter, as in Kirkpatrick et al."),
            Key.pattern("freeze", "", "parameters left untrained with every strategy: a regular"
                    + " expression searched in each parameter's name (e.g. 'wte|wpe' for the"
                    + " embeddings, 'h\\.[0-5]\\.' for the lower blocks); they get no gradient,"
                    + " no update and no optimizer state"),
            Key.longInteger("replay-tokens", 32768L, 0, "tokens", "replay buffer budget, shared"
                    + " equally by earlier domains").min(0, true),
            Key.real("replay-ratio", 0.25, 0, true, "replayed windows per optimizer step as a"
                    + " share of its batch-size x grad-accum windows, rounded to whole windows"
                    + " (batch 8: 0.25 = 2 windows) and spread over the micro-batches; below 1"
                    + " with replace, at most 1 with add"),
            Key.text("replay-mode", "add", "add or replace: the replayed windows take their"
                    + " share of the batch (replace: the same compute as naive, fewer new tokens)"
                    + " or come on top of a full batch of new windows (add: the same new tokens as"
                    + " naive, more compute per step; README 'Strategies compared' compares"
                    + " them)").metavar("MODE"),
            Key.real("general-ratio", 0.05, 0, true, "with --general: the share of each"
                    + " batch's windows replayed from the general-data source, from the first"
                    + " domain on (a share that is no whole number of windows is met on average"
                    + " over the steps)"),
            Key.integer("eval-every", 0, 0, "steps", "also evaluate every domain's valid split"
                    + " every N steps; 0 = off"),
            Key.integer("eval-windows", 8, 1, "windows", "windows per domain in those"
                    + " evaluations"),
            Key.integer("test-windows", 0, 0, "windows", "windows per domain in the evaluation"
                    + " after each stage; 0 = the whole test split (the exact protocol)"),
            Key.integer("save-every", 100, 1, "steps", "checkpoint every N steps (and at every"
                    + " domain end)"),
            Key.integer("keep-checkpoints", 1, 1, "checkpoints", "verified checkpoints kept, the"
                    + " newest first; with 2 or more a resume falls back to the previous one when"
                    + " the newest is damaged (1 protects against a crash while one is written)"),
            Key.choice("export-stages", "all", List.of("all", "last", "none"), "which"
                    + " stages' outputs to write beside the run at domain ends (stage-K-DOMAIN.pt"
                    + " and, with EWC, ewc-stage-K.ndlist): all, last (only the final ones) or"
                    + " none"),
            Key.choice("export-format", "torchscript", List.of("torchscript", "safetensors",
                    "both"), "the exported stage models' form: torchscript (stage-K-DOMAIN.pt),"
                    + " safetensors (a Hugging Face GPT-2 folder stage-K-DOMAIN/ with"
                    + " model.safetensors, config.json and tokenizer.json, as retain export"
                    + " writes) or both"),
            Key.choice("drift", "fisher", List.of("fisher", "plain", "off"), "the drift map"
                    + " (how far each tensor moved during each domain, the same for every"
                    + " strategy): fisher (weighted by a 16-sequence Fisher of the previous"
                    + " domain), plain (unweighted: no Fisher, half the memory and checkpoint"
                    + " space) or off"),
            Key.real("divergence-factor", 10.0, 0, false, "stop the run as diverged (exit 3)"
                    + " when a step's loss exceeds this times the loss of the domain's first"
                    + " step; 0 = only when the loss is not finite"),
            Key.choice("device", "auto", List.of("cpu", "gpu", "auto"), "cpu, gpu or auto"));

    /** The settings as a list, in help order (the keys of {@link #TABLE}). */
    public static final List<Key> KEYS = TABLE.keys();

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
        return TABLE.key(name);
    }

    /** @return all key names */
    public static List<String> names() {
        return TABLE.names();
    }

    /**
     * Parses one value given as text (a flag) or JSON (a settings file): {@link Key#parse}.
     *
     * @param k the key
     * @param raw the value
     * @param where where it came from, for messages (e.g. {@code --ewc-lambda} or {@code
     *     exp.yaml:12})
     * @return the typed value
     */
    public static Object parse(Key k, JsonNode raw, String where) {
        return k.parse(raw, where);
    }

    /**
     * Builds a configuration from typed values; missing keys take their defaults.
     *
     * @param values key name to typed value (from {@link #parse})
     * @param where where the values came from, for messages
     * @return the configuration
     */
    public static TrainConfig fromValues(Map<String, Object> values, String where) {
        Map<String, Object> v = TABLE.complete(values, where);
        TrainConfig c = new TrainConfig(
                (String) v.get("strategy"), (double) v.get("learning-rate"),
                (int) v.get("batch-size"), (int) v.get("grad-accum"),
                (int) v.get("max-steps-per-domain"), (double) v.get("epochs"),
                (int) v.get("warmup-steps"), (double) v.get("min-lr-ratio"),
                (String) v.get("schedule"), (double) v.get("decay-fraction"),
                (String) v.get("rewarm"),
                (double) v.get("weight-decay"), (boolean) v.get("decay-all"),
                (double) v.get("max-grad-norm"), (double) v.get("adam-beta1"),
                (double) v.get("adam-beta2"), (double) v.get("adam-eps"),
                (int) v.get("seq-len"), (long) v.get("seed"), (double) v.get("ewc-lambda"),
                (double) v.get("ewc-gamma"), (double) v.get("l2-lambda"),
                (double) v.get("lwf-weight"), (double) v.get("lwf-temperature"),
                (String) v.get("lwf-on"),
                (int) v.get("fisher-samples"),
                (String) v.get("fisher-mode"), (boolean) v.get("fisher-batched"),
                (String) v.get("ewc-prior"), (String) v.get("ewc-exclude"),
                (String) v.get("freeze"),
                (long) v.get("replay-tokens"), (double) v.get("replay-ratio"),
                (String) v.get("replay-mode"), (double) v.get("general-ratio"),
                (int) v.get("eval-every"), (int) v.get("eval-windows"),
                (int) v.get("test-windows"),
                (int) v.get("save-every"), (int) v.get("keep-checkpoints"),
                (String) v.get("export-stages"), (String) v.get("export-format"),
                (String) v.get("drift"),
                (double) v.get("divergence-factor"), (String) v.get("device"));
        c.validate(where);
        return c;
    }

    private void validate(String where) {
        if (!ewcPrior.isEmpty() && !usesEwc()) {
            throw new UserError(where + ": ewc-prior needs an EWC strategy (ewc or ewc+replay)");
        }
        if (!replayMode.equals("replace") && !replayMode.equals("add")) {
            throw new UserError(where + ": replay-mode " + replayMode + ": use replace or add");
        }
        boolean add = replayMode.equals("add");
        if (replayRatio >= 1 && !add || replayRatio > 1) {
            throw new UserError(where + ": replay-ratio " + replayRatio + " must be below 1 (a"
                    + " step needs some new tokens), or at most 1 with replay-mode add");
        }
        if (decayFraction > 1) {
            throw new UserError(where + ": decay-fraction " + decayFraction + " must be at most 1"
                    + " (the share of a domain's steps)");
        }
        if (beta1 >= 1 || beta2 >= 1) {
            throw new UserError(where + ": adam-beta1 and adam-beta2 must be below 1");
        }
        if (usesReplay() && !add && replayRows() >= batchSize * gradAccum) {
            throw new UserError(where + ": with batch-size " + batchSize + (gradAccum > 1
                    ? " x grad-accum " + gradAccum : "") + " a replay-ratio of " + replayRatio
                    + " leaves no new windows; lower the ratio or raise the batch");
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
        return TABLE.valuesFrom(parsed, node, pointer, base);
    }

    /** @return whether the strategy includes EWC */
    public boolean usesEwc() {
        return strategy.contains("ewc");
    }

    /** @return whether the strategy includes replay */
    public boolean usesReplay() {
        return strategy.contains("replay");
    }

    /**
     * Whether a stage's model and, for EWC, its {@code ewc-stage-K.ndlist} are written.
     *
     * @param stage the stage index
     * @param stages how many stages the run has
     * @return true for every stage ({@code all}), the last ({@code last}), none ({@code none})
     */
    public boolean exportsStage(int stage, int stages) {
        return exportStages.equals("all") || (exportStages.equals("last") && stage == stages - 1);
    }

    /**
     * @return replayed windows per optimizer step: the ratio of the step's {@code batch-size x
     *     grad-accum} windows, rounded
     */
    public int replayRows() {
        return usesReplay() ? (int) Math.round(batchSize * gradAccum * replayRatio) : 0;
    }

    /**
     * @param micro a micro-batch of the step, 0 to {@code grad-accum - 1}
     * @return its share of the step's replayed windows, the later micro-batches taking the
     *     remainder (batch-size 1, grad-accum 4, ratio 0.25: one window, in the fourth)
     */
    public int replayRows(int micro) {
        int total = replayRows();
        return total * (micro + 1) / gradAccum - total * micro / gradAccum;
    }

    /**
     * @param replayed windows the plugins replayed into a micro-batch
     * @return its new windows: the rest of the batch ({@code replace}) or a full batch ({@code add})
     */
    public int newRows(int replayed) {
        return replayMode.equals("add") ? batchSize : batchSize - replayed;
    }

    /**
     * The settings as a flat map of key to value, in {@link #KEYS} order, for JSON.
     *
     * @return the map
     */
    public Map<String, Object> asMap() {
        Object[] vals = {strategy, learningRate, batchSize, gradAccum, maxStepsPerDomain, epochs,
            warmupSteps, minLrRatio, schedule, decayFraction, rewarm, weightDecay, decayAll, maxGradNorm, beta1,
            beta2, adamEps, seqLen, seed, ewcLambda, ewcGamma, l2Lambda, lwfWeight, lwfTemperature,
            lwfOn, fisherSamples, fisherMode, fisherBatched, ewcPrior, ewcExclude, freeze,
            replayTokens, replayRatio, replayMode, generalRatio, evalEvery, evalWindows, testWindows, saveEvery,
            keepCheckpoints, exportStages, exportFormat, drift, divergenceFactor, device};
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
        return fromValues(TABLE.fromJson(node, where), where);
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
