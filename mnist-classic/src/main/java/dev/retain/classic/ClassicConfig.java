package dev.retain.classic;

import dev.retain.core.UserError;
import dev.retain.core.util.Json;
import dev.retain.classic.data.Scenario;
import dev.retain.train.config.CommonKeys;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyGroup;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Every setting of a classic (MNIST) continual-learning run, with the defaults in one place.
 *
 * <p>Defaults follow the published setups (van de Ven &amp; Tolias 2019, Hsu et al. 2018: an MLP
 * of two hidden layers of 400 ReLU units, Adam with learning rate 0.001, mini-batches of 128),
 * scaled to the 8,000-image training set shipped in {@code datasets/mnist}: see {@code
 * docs/CLASSIC.md}. The settings and their defaults are declared once, in {@link #TABLE}; a
 * value of 0 for {@code epochs}, {@code batchSize}, a negative {@code ewcLambda} or a null {@code
 * scenario} means "the benchmark's default" ({@link #resolve()}).
 *
 * @param benchmark {@code split-mnist}, {@code permuted-mnist} or {@code rotated-mnist}
 * @param scenario the scenario, or null for the benchmark's default
 * @param mnist the MNIST folder, or null for {@code datasets/mnist}
 * @param tasks tasks of Permuted and Rotated MNIST (Split MNIST always has 5)
 * @param seeds how many seeds to run
 * @param seed the first seed; seed {@code i} is {@code seed + i}
 * @param epochs passes over each task's training examples (0 = benchmark default)
 * @param batchSize new examples per step (0 = benchmark default)
 * @param learningRate Adam's learning rate
 * @param hidden the hidden layers' widths
 * @param ewcLambda EWC strength (negative = the benchmark's default)
 * @param ewcGamma online EWC's decay of earlier Fishers
 * @param fisherSamples examples of a finished task its Fisher is estimated on
 * @param fisherMode {@code sampled} (labels drawn from the model: the true Fisher) or {@code
 *     empirical} (the data's labels)
 * @param replaySamples the replay memory's budget, in examples
 * @param replayMode {@code reservoir} (equal shares per task), {@code class-balanced} (equal
 *     shares per class) or {@code stream} (one reservoir over the whole stream)
 * @param replayBatch memory examples added to each step (replay, mer, maml)
 * @param streamBatch new examples per step of the online learners (mer, maml)
 * @param merLr MER's inner SGD learning rate
 * @param merBeta MER's within-batch Reptile rate
 * @param merGamma MER's across-batch Reptile rate
 * @param merSteps MER's batches per incoming stream batch ({@code s} in Riemer et al.)
 * @param merChunks sequential SGD steps each MER batch is split into
 * @param mamlInnerLr the MAML inner (support) SGD step size
 * @param evalBatch test images per forward pass
 * @param threads libtorch intra-op threads while training (0 = leave libtorch's setting)
 */
public record ClassicConfig(
        String benchmark,
        Scenario scenario,
        Path mnist,
        int tasks,
        int seeds,
        long seed,
        int epochs,
        int batchSize,
        double learningRate,
        int[] hidden,
        double ewcLambda,
        double ewcGamma,
        int fisherSamples,
        String fisherMode,
        int replaySamples,
        String replayMode,
        int replayBatch,
        int streamBatch,
        double merLr,
        double merBeta,
        double merGamma,
        int merSteps,
        int merChunks,
        double mamlInnerLr,
        int evalBatch,
        int threads) {

    /** The benchmarks. */
    public static final String[] BENCHMARKS = {"split-mnist", "permuted-mnist", "rotated-mnist"};

    /** Default epochs on Split MNIST. */
    public static final int EPOCHS_SPLIT = 10;
    /** Default epochs on Permuted MNIST. */
    public static final int EPOCHS_PERMUTED = 2;
    /** Default epochs on Rotated MNIST (one pass: the online stream). */
    public static final int EPOCHS_ROTATED = 1;
    /** Default batch size on Split and Permuted MNIST (the published 128). */
    public static final int BATCH = 128;
    /** Default batch size on Rotated MNIST (an online stream). */
    public static final int BATCH_ROTATED = 10;
    /**
     * Default EWC lambda on Split MNIST (per-example Fisher), picked from {1e3, 1e5, 1e6, 1e7}
     * on task-IL: the 2-way heads fit their tasks almost perfectly, so the Fisher is tiny.
     */
    public static final double EWC_LAMBDA_SPLIT = 1e6;
    /** Default EWC lambda on Permuted MNIST, picked from {1, 10, 100, 1e3, 1e4, 1e6}. */
    public static final double EWC_LAMBDA_PERMUTED = 1e2;
    /** Default EWC lambda on Rotated MNIST, picked from {1, 100, 1e3, 1e4, 1e6}. */
    public static final double EWC_LAMBDA_ROTATED = 1e3;

    /**
     * Every setting, in help order, with the defaults that do not depend on the benchmark (those
     * that do are the constants above, applied by {@link #resolve()}). The default of 1 libtorch
     * thread: these small matrix products gain little from a second thread and lose a lot when
     * the machine is shared (docs/CLASSIC.md).
     */
    public static final KeyGroup KEYS = new KeyGroup();
    public static final Key<String> BENCHMARK = KEYS.add(Key.text("benchmark", "split-mnist",
            "split-mnist, permuted-mnist or rotated-mnist").metavar("NAME"));
    static final Key<Path> MNIST = KEYS.add(Key.path("mnist", "DIR", "folder with the four MNIST"
            + " IDX files (plain or .gz)").shown("datasets/mnist, 8,000 train / 2,000 test"));
    static final Key<Integer> SEEDS = KEYS.add(Key.integer("seeds", 5, 1, "", "seeds to run;"
            + " seed i is --seed + i").max(10_000));
    static final Key<Long> SEED = KEYS.add(CommonKeys.SEED.dflt(1L).help("first seed"));
    static final Key<Integer> TASKS = KEYS.add(Key.integer("tasks", 10, 1, "", "tasks of"
            + " permuted-mnist and rotated-mnist").max(10_000));
    static final Key<Integer> EPOCHS = KEYS.add(Key.integer("epochs", 0, 1, "", "passes over each"
            + " task's training set (mer and maml always make one)").shown(EPOCHS_SPLIT
                    + " for split-mnist, " + EPOCHS_PERMUTED + " for permuted-mnist, "
                    + EPOCHS_ROTATED + " for rotated-mnist").max(100_000));
    static final Key<Integer> BATCH_SIZE = KEYS.add(Key.integer("batch-size", 0, 1, "", "new"
            + " examples per Adam step").shown(BATCH + "; " + BATCH_ROTATED
                    + " for rotated-mnist").max(1 << 20));
    static final Key<Double> LEARNING_RATE = KEYS.add(Key.real("learning-rate", 1e-3, 0, true,
            "Adam learning rate").alias("lr"));
    static final Key<int[]> HIDDEN = KEYS.add(Key.integers("hidden", new int[] {400, 400}, 1,
            "hidden layer widths of the MLP (and of each PNN column)").max(1 << 16));
    static final Key<Double> EWC_LAMBDA = KEYS.add(Key.real("ewc-lambda", -1, 0, false, "EWC"
            + " strength: lambda/2 * sum F (theta - theta*)^2, per-example Fisher").shown("1e6 for"
                    + " split-mnist, 100 for permuted-mnist, 1000 for rotated-mnist"));
    static final Key<Double> EWC_GAMMA = KEYS.add(Key.real("ewc-gamma", 1.0, 0, false, "online"
            + " EWC: F = gamma*F_old + F_new"));
    static final Key<Integer> FISHER_SAMPLES = KEYS.add(Key.integer("fisher-samples", 200, 1, "",
            "examples of a finished task its Fisher is estimated on (one unit each)")
            .max(10_000_000));
    static final Key<String> FISHER_MODE = KEYS.add(Key.choice("fisher-mode", "sampled",
            List.of("sampled", "empirical"), "targets of the Fisher: drawn from the model (true"
                    + " Fisher) or the labels"));
    static final Key<Integer> REPLAY_SAMPLES = KEYS.add(Key.integer("replay-samples", 1000, 1, "",
            "replay memory budget in examples (replay, mer, maml)").max(100_000_000));
    static final Key<String> REPLAY_MODE = KEYS.add(Key.text("replay-mode", "reservoir",
            "reservoir, class-balanced or stream: equal memory shares per task (reservoir) or per"
                    + " class (class-balanced), each a reservoir sample, or one reservoir over the"
                    + " whole stream (stream: shares follow the tasks' sizes)").metavar("MODE"));
    static final Key<Integer> REPLAY_BATCH = KEYS.add(Key.integer("replay-batch", 0, 1, "",
            "memory examples added to each step").shown("as many as the new examples")
            .max(1 << 20));
    static final Key<Integer> STREAM_BATCH = KEYS.add(Key.integer("stream-batch", 10, 1, "", "new"
            + " examples per step of the online learners mer and maml").max(1 << 20));
    static final Key<Double> MER_LR = KEYS.add(Key.real("mer-lr", 0.3, 0, true, "MER inner SGD"
            + " learning rate"));
    static final Key<Double> MER_BETA = KEYS.add(Key.real("mer-beta", 0.3, 0, true, "MER"
            + " within-batch Reptile rate"));
    static final Key<Double> MER_GAMMA = KEYS.add(Key.real("mer-gamma", 1.0, 0, true, "MER"
            + " across-batch Reptile rate"));
    static final Key<Integer> MER_STEPS = KEYS.add(Key.integer("mer-steps", 2, 1, "", "MER"
            + " batches per stream batch (s)").max(10_000));
    static final Key<Integer> MER_CHUNKS = KEYS.add(Key.integer("mer-chunks", 2, 1, "",
            "sequential SGD steps each MER batch is split into").max(10_000));
    static final Key<Double> MAML_INNER_LR = KEYS.add(Key.real("maml-inner-lr", 0.03, 0, true,
            "MAML inner (support) step size"));
    static final Key<Integer> EVAL_BATCH = KEYS.add(Key.integer("eval-batch", 1000, 1, "", "test"
            + " images per forward pass").max(1 << 20));
    static final Key<Integer> THREADS = KEYS.add(CommonKeys.THREADS.dflt(1).help("libtorch"
            + " threads (0 = libtorch's default, one per core)"));
    /** The settings as a table. */
    public static final KeyTable TABLE = KeyTable.of(KEYS);

    /**
     * Checks the names and copies the array (the numbers' ranges are checked by {@link #TABLE}
     * when they are read).
     */
    public ClassicConfig {
        hidden = hidden.clone();
        benchmark = benchmark.toLowerCase(Locale.ROOT);
        fisherMode = fisherMode.toLowerCase(Locale.ROOT);
        replayMode = replayMode.toLowerCase(Locale.ROOT);
        if (!Arrays.asList(BENCHMARKS).contains(benchmark)) {
            throw new UserError("--benchmark " + benchmark + ": unknown benchmark; use "
                    + String.join(", ", BENCHMARKS));
        }
        if (hidden.length == 0 || Arrays.stream(hidden).anyMatch(h -> h < 1)) {
            throw new UserError("--hidden " + hiddenText(hidden) + ": give one or more layer"
                    + " widths of at least 1, e.g. 400,400");
        }
        if (!fisherMode.equals("sampled") && !fisherMode.equals("empirical")) {
            throw new UserError("--fisher-mode " + fisherMode + ": use sampled or empirical");
        }
        if (ReplayMemory.Grouping.of(replayMode) == null) {
            throw new UserError("--replay-mode " + replayMode + ": use reservoir,"
                    + " class-balanced or stream");
        }
    }

    /**
     * Builds a configuration from typed values (from {@link #TABLE}); missing keys take their
     * defaults, then the benchmark's defaults are filled in ({@link #resolve()}).
     *
     * @param values key name to typed value
     * @param scenario the scenario, or null for the benchmark's default
     * @return the checked configuration
     */
    public static ClassicConfig of(Map<String, Object> values, Scenario scenario) {
        Settings v = TABLE.settings(TABLE.complete(values, "settings"));
        return new ClassicConfig(v.get(BENCHMARK), scenario, v.get(MNIST),
                v.get(TASKS), v.get(SEEDS), v.get(SEED),
                v.get(EPOCHS), v.get(BATCH_SIZE),
                v.get(LEARNING_RATE), v.get(HIDDEN),
                v.get(EWC_LAMBDA), v.get(EWC_GAMMA),
                v.get(FISHER_SAMPLES), v.get(FISHER_MODE),
                v.get(REPLAY_SAMPLES), v.get(REPLAY_MODE),
                v.get(REPLAY_BATCH), v.get(STREAM_BATCH),
                v.get(MER_LR), v.get(MER_BETA), v.get(MER_GAMMA),
                v.get(MER_STEPS), v.get(MER_CHUNKS),
                v.get(MAML_INNER_LR), v.get(EVAL_BATCH),
                v.get(THREADS)).resolve();
    }

    /**
     * The defaults for a benchmark.
     *
     * @param benchmark the benchmark's name
     * @return every setting at its default, resolved for that benchmark
     */
    public static ClassicConfig defaults(String benchmark) {
        return of(Map.of("benchmark", benchmark), null);
    }

    /**
     * @return a copy with the benchmark-dependent defaults filled in: scenario (class for Split
     *     MNIST, domain otherwise), epochs, batch size, EWC lambda
     */
    public ClassicConfig resolve() {
        boolean split = benchmark.equals("split-mnist");
        boolean rotated = benchmark.equals("rotated-mnist");
        Scenario sc = scenario != null ? scenario : split ? Scenario.CLASS : Scenario.DOMAIN;
        int ep = epochs > 0 ? epochs : split ? EPOCHS_SPLIT : rotated ? EPOCHS_ROTATED
                : EPOCHS_PERMUTED;
        int bs = batchSize > 0 ? batchSize : rotated ? BATCH_ROTATED : BATCH;
        double lambda = ewcLambda >= 0 ? ewcLambda : split ? EWC_LAMBDA_SPLIT
                : rotated ? EWC_LAMBDA_ROTATED : EWC_LAMBDA_PERMUTED;
        return new ClassicConfig(benchmark, sc, mnist, tasks, seeds, seed, ep, bs, learningRate,
                hidden, lambda, ewcGamma, fisherSamples, fisherMode, replaySamples, replayMode,
                replayBatch, streamBatch, merLr, merBeta, merGamma, merSteps, merChunks,
                mamlInnerLr, evalBatch, threads);
    }

    /**
     * @param strategy the strategy
     * @return memory examples per step for it: {@code replayBatch}, or when that is 0 as many as
     *     its new examples per step
     */
    public int replayBatchFor(Strategy strategy) {
        if (replayBatch > 0) {
            return replayBatch;
        }
        return strategy.online() ? streamBatch : batchSize;
    }

    /**
     * @param s the seed index, {@code 0..seeds-1}
     * @return the seed value of that run
     */
    public long seedValue(int s) {
        return seed + s;
    }

    /** @return the hidden widths as text, e.g. {@code 400,400} */
    public String hiddenText() {
        return hiddenText(hidden);
    }

    private static String hiddenText(int[] h) {
        return Arrays.stream(h).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    /**
     * The settings as one flat JSON object (results.json's {@code config}), keys as the
     * command-line flags with {@code _} for {@code -}.
     *
     * @param strategy the strategy the run used
     * @return the object
     */
    public ObjectNode toJson(Strategy strategy) {
        ObjectNode o = Json.object();
        o.put("benchmark", benchmark);
        o.put("scenario", scenario == null ? null : scenario.key());
        o.put("strategy", strategy.key());
        o.put("mnist", mnist == null ? "datasets/mnist" : mnist.toString());
        if (!benchmark.equals("split-mnist")) {
            o.put("tasks", tasks);
        }
        o.put("seeds", seeds);
        o.put("seed", seed);
        o.put("epochs", strategy.online() ? 1 : epochs);
        o.put("batch_size", strategy.online() ? streamBatch : batchSize);
        o.put("learning_rate", learningRate);
        o.put("optimizer", strategy == Strategy.MER ? "sgd" : "adam");
        o.put("hidden", hiddenText());
        if (strategy == Strategy.EWC || strategy == Strategy.ONLINE_EWC) {
            o.put("ewc_lambda", ewcLambda);
            o.put("ewc_gamma", strategy == Strategy.EWC ? 1.0 : ewcGamma);
            o.put("fisher_samples", fisherSamples);
            o.put("fisher_mode", fisherMode);
        }
        if (strategy.usesMemory()) {
            o.put("replay_samples", replaySamples);
            o.put("replay_mode", replayMode);
            o.put("replay_batch", replayBatchFor(strategy));
        }
        if (strategy == Strategy.MER) {
            o.put("mer_lr", merLr);
            o.put("mer_beta", merBeta);
            o.put("mer_gamma", merGamma);
            o.put("mer_steps", merSteps);
            o.put("mer_chunks", merChunks);
        }
        if (strategy == Strategy.MAML) {
            o.put("maml_inner_lr", mamlInnerLr);
        }
        o.put("eval_batch", evalBatch);
        o.put("threads", threads);
        return o;
    }

    /** @return a one-line summary for progress output */
    public String describe() {
        return String.format(Locale.ROOT, "%s/%s, %d seed(s) from %d", benchmark,
                scenario == null ? "?" : scenario.key(), seeds, seed);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClassicConfig c && toString().equals(c.toString());
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }

    @Override
    public String toString() {
        return "ClassicConfig[" + benchmark + ", " + scenario + ", hidden=" + hiddenText()
                + ", epochs=" + epochs + ", batch=" + batchSize + ", lr=" + learningRate
                + ", seeds=" + seeds + "@" + seed + ", ewc=" + ewcLambda + "/" + ewcGamma + "/"
                + fisherSamples + "/" + fisherMode + ", replay=" + replaySamples + "/"
                + replayMode + "/" + replayBatch + ", stream=" + streamBatch + ", mer=" + merLr
                + "/" + merBeta + "/" + merGamma + "/" + merSteps + "/" + merChunks + ", maml="
                + mamlInnerLr + ", threads=" + threads + ", tasks=" + tasks + ", mnist=" + mnist
                + "]";
    }
}
