package dev.retain.train.classic;

import dev.retain.core.UserError;
import dev.retain.core.util.Json;
import dev.retain.train.classic.data.Scenario;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Every setting of a classic (MNIST) continual-learning run, with the defaults in one place.
 *
 * <p>Defaults follow the published setups (van de Ven &amp; Tolias 2019, Hsu et al. 2018: an MLP
 * of two hidden layers of 400 ReLU units, Adam with learning rate 0.001, mini-batches of 128),
 * scaled to the 8,000-image training set shipped in {@code datasets/mnist}: see {@code
 * docs/CLASSIC.md}. A value of 0 for {@code epochs}, {@code batchSize} or a null {@code scenario}
 * means "the benchmark's default" ({@link #resolve()}).
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

    /** Default number of seeds. */
    public static final int SEEDS = 5;
    /** Default first seed. */
    public static final long SEED = 1;
    /** Default tasks of Permuted / Rotated MNIST. */
    public static final int TASKS = 10;
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
    /** Default Adam learning rate (the published 0.001). */
    public static final double LR = 1e-3;
    /** Default hidden layers. */
    public static final int[] HIDDEN = {400, 400};
    /**
     * Default EWC lambda on Split MNIST (per-example Fisher), picked from {1e3, 1e5, 1e6, 1e7}
     * on task-IL: the 2-way heads fit their tasks almost perfectly, so the Fisher is tiny.
     */
    public static final double EWC_LAMBDA_SPLIT = 1e6;
    /** Default EWC lambda on Permuted MNIST, picked from {1, 10, 100, 1e3, 1e4, 1e6}. */
    public static final double EWC_LAMBDA_PERMUTED = 1e2;
    /** Default EWC lambda on Rotated MNIST, picked from {1, 100, 1e3, 1e4, 1e6}. */
    public static final double EWC_LAMBDA_ROTATED = 1e3;
    /** Default online-EWC gamma. */
    public static final double EWC_GAMMA = 1.0;
    /** Default Fisher examples per task. */
    public static final int FISHER_SAMPLES = 200;
    /** Default Fisher mode. */
    public static final String FISHER_MODE = "sampled";
    /** Default replay budget. */
    public static final int REPLAY_SAMPLES = 1000;
    /** Default replay mode. */
    public static final String REPLAY_MODE = "reservoir";
    /** Default memory examples per step (0 = as many as the new examples). */
    public static final int REPLAY_BATCH = 0;
    /** Default stream batch of the online learners. */
    public static final int STREAM_BATCH = 10;
    /** Default MER inner learning rate. */
    public static final double MER_LR = 0.3;
    /** Default MER beta. */
    public static final double MER_BETA = 0.3;
    /** Default MER gamma. */
    public static final double MER_GAMMA = 1.0;
    /** Default MER batches per incoming batch. */
    public static final int MER_STEPS = 2;
    /** Default MER SGD steps per batch. */
    public static final int MER_CHUNKS = 2;
    /** Default MAML inner learning rate. */
    public static final double MAML_INNER_LR = 0.03;
    /** Default evaluation batch. */
    public static final int EVAL_BATCH = 1000;
    /**
     * Default libtorch threads: 1, because these small matrix products gain little from a
     * second thread and lose a lot when the machine is shared (measured: 13 ms per step with 1
     * thread, 40 to 180 ms with 2, on a loaded 2-core machine).
     */
    public static final int THREADS = 1;

    /** Checks ranges and copies the array. */
    public ClassicConfig {
        hidden = hidden.clone();
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
        positive("seeds", seeds);
        positive("tasks", tasks);
        positive("fisher-samples", fisherSamples);
        positive("replay-samples", replaySamples);
        positive("stream-batch", streamBatch);
        positive("mer-steps", merSteps);
        positive("mer-chunks", merChunks);
        positive("eval-batch", evalBatch);
        if (threads < 0) {
            throw new UserError("--threads " + threads + ": must be 0 (libtorch's default) or"
                    + " more");
        }
        if (epochs < 0 || batchSize < 0 || replayBatch < 0) {
            throw new UserError("--epochs, --batch-size and --replay-batch must not be negative");
        }
        for (double v : new double[] {learningRate, merLr, mamlInnerLr}) {
            if (!(v > 0) || !Double.isFinite(v)) {
                throw new UserError("learning rates must be greater than 0 (got " + v + ")");
            }
        }
        if (Double.isNaN(ewcLambda) || !(ewcGamma >= 0) || !(merBeta > 0)
                || !(merGamma > 0)) {
            throw new UserError("--ewc-lambda and --ewc-gamma must be 0 or more, --mer-beta and"
                    + " --mer-gamma more than 0");
        }
    }

    private static void positive(String name, int v) {
        if (v < 1) {
            throw new UserError("--" + name + " " + v + ": must be at least 1");
        }
    }

    /**
     * The defaults for a benchmark.
     *
     * @param benchmark the benchmark's name
     * @return every setting at its default, resolved for that benchmark
     */
    public static ClassicConfig defaults(String benchmark) {
        return new ClassicConfig(benchmark, null, null, TASKS, SEEDS, SEED, 0, 0, LR, HIDDEN,
                -1, EWC_GAMMA, FISHER_SAMPLES, FISHER_MODE, REPLAY_SAMPLES, REPLAY_MODE,
                REPLAY_BATCH, STREAM_BATCH, MER_LR, MER_BETA, MER_GAMMA, MER_STEPS, MER_CHUNKS,
                MAML_INNER_LR, EVAL_BATCH, THREADS).resolve();
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

    /**
     * A builder starting from the defaults of a benchmark (before {@link #resolve()}: the
     * benchmark-dependent values stay "default" until {@link Builder#build()}).
     *
     * @param benchmark the benchmark's name
     * @return the builder
     */
    public static Builder builder(String benchmark) {
        return new Builder(new ClassicConfig(benchmark, null, null, TASKS, SEEDS, SEED, 0, 0, LR,
                HIDDEN, -1, EWC_GAMMA, FISHER_SAMPLES, FISHER_MODE, REPLAY_SAMPLES,
                REPLAY_MODE, REPLAY_BATCH, STREAM_BATCH, MER_LR, MER_BETA, MER_GAMMA, MER_STEPS,
                MER_CHUNKS, MAML_INNER_LR, EVAL_BATCH, THREADS));
    }

    /** Sets settings one by one; {@link #build()} checks and resolves them. */
    public static final class Builder {
        private String benchmark;
        private Scenario scenario;
        private Path mnist;
        private int tasks;
        private int seeds;
        private long seed;
        private int epochs;
        private int batchSize;
        private double learningRate;
        private int[] hidden;
        private double ewcLambda;
        private double ewcGamma;
        private int fisherSamples;
        private String fisherMode;
        private int replaySamples;
        private String replayMode;
        private int replayBatch;
        private int streamBatch;
        private double merLr;
        private double merBeta;
        private double merGamma;
        private int merSteps;
        private int merChunks;
        private double mamlInnerLr;
        private int evalBatch;
        private int threads;

        private Builder(ClassicConfig c) {
            benchmark = c.benchmark();
            scenario = c.scenario();
            mnist = c.mnist();
            tasks = c.tasks();
            seeds = c.seeds();
            seed = c.seed();
            epochs = c.epochs();
            batchSize = c.batchSize();
            learningRate = c.learningRate();
            hidden = c.hidden();
            ewcLambda = c.ewcLambda();
            ewcGamma = c.ewcGamma();
            fisherSamples = c.fisherSamples();
            fisherMode = c.fisherMode();
            replaySamples = c.replaySamples();
            replayMode = c.replayMode();
            replayBatch = c.replayBatch();
            streamBatch = c.streamBatch();
            merLr = c.merLr();
            merBeta = c.merBeta();
            merGamma = c.merGamma();
            merSteps = c.merSteps();
            merChunks = c.merChunks();
            mamlInnerLr = c.mamlInnerLr();
            evalBatch = c.evalBatch();
            threads = c.threads();
        }

        /**
         * @param v the value of {@code benchmark}
         * @return this builder
         */
        public Builder benchmark(String v) {
            benchmark = v;
            return this;
        }

        /**
         * @param v the value of {@code scenario}
         * @return this builder
         */
        public Builder scenario(Scenario v) {
            scenario = v;
            return this;
        }

        /**
         * @param v the value of {@code mnist}
         * @return this builder
         */
        public Builder mnist(Path v) {
            mnist = v;
            return this;
        }

        /**
         * @param v the value of {@code tasks}
         * @return this builder
         */
        public Builder tasks(int v) {
            tasks = v;
            return this;
        }

        /**
         * @param v the value of {@code seeds}
         * @return this builder
         */
        public Builder seeds(int v) {
            seeds = v;
            return this;
        }

        /**
         * @param v the value of {@code seed}
         * @return this builder
         */
        public Builder seed(long v) {
            seed = v;
            return this;
        }

        /**
         * @param v the value of {@code epochs}
         * @return this builder
         */
        public Builder epochs(int v) {
            epochs = v;
            return this;
        }

        /**
         * @param v the value of {@code batchSize}
         * @return this builder
         */
        public Builder batchSize(int v) {
            batchSize = v;
            return this;
        }

        /**
         * @param v the value of {@code learningRate}
         * @return this builder
         */
        public Builder learningRate(double v) {
            learningRate = v;
            return this;
        }

        /**
         * @param v the value of {@code hidden}
         * @return this builder
         */
        public Builder hidden(int[] v) {
            hidden = v;
            return this;
        }

        /**
         * @param v the value of {@code ewcLambda}
         * @return this builder
         */
        public Builder ewcLambda(double v) {
            ewcLambda = v;
            return this;
        }

        /**
         * @param v the value of {@code ewcGamma}
         * @return this builder
         */
        public Builder ewcGamma(double v) {
            ewcGamma = v;
            return this;
        }

        /**
         * @param v the value of {@code fisherSamples}
         * @return this builder
         */
        public Builder fisherSamples(int v) {
            fisherSamples = v;
            return this;
        }

        /**
         * @param v the value of {@code fisherMode}
         * @return this builder
         */
        public Builder fisherMode(String v) {
            fisherMode = v;
            return this;
        }

        /**
         * @param v the value of {@code replaySamples}
         * @return this builder
         */
        public Builder replaySamples(int v) {
            replaySamples = v;
            return this;
        }

        /**
         * @param v the value of {@code replayMode}
         * @return this builder
         */
        public Builder replayMode(String v) {
            replayMode = v;
            return this;
        }

        /**
         * @param v the value of {@code replayBatch}
         * @return this builder
         */
        public Builder replayBatch(int v) {
            replayBatch = v;
            return this;
        }

        /**
         * @param v the value of {@code streamBatch}
         * @return this builder
         */
        public Builder streamBatch(int v) {
            streamBatch = v;
            return this;
        }

        /**
         * @param v the value of {@code merLr}
         * @return this builder
         */
        public Builder merLr(double v) {
            merLr = v;
            return this;
        }

        /**
         * @param v the value of {@code merBeta}
         * @return this builder
         */
        public Builder merBeta(double v) {
            merBeta = v;
            return this;
        }

        /**
         * @param v the value of {@code merGamma}
         * @return this builder
         */
        public Builder merGamma(double v) {
            merGamma = v;
            return this;
        }

        /**
         * @param v the value of {@code merSteps}
         * @return this builder
         */
        public Builder merSteps(int v) {
            merSteps = v;
            return this;
        }

        /**
         * @param v the value of {@code merChunks}
         * @return this builder
         */
        public Builder merChunks(int v) {
            merChunks = v;
            return this;
        }

        /**
         * @param v the value of {@code mamlInnerLr}
         * @return this builder
         */
        public Builder mamlInnerLr(double v) {
            mamlInnerLr = v;
            return this;
        }

        /**
         * @param v the value of {@code evalBatch}
         * @return this builder
         */
        public Builder evalBatch(int v) {
            evalBatch = v;
            return this;
        }

        /**
         * @param v the value of {@code threads}
         * @return this builder
         */
        public Builder threads(int v) {
            threads = v;
            return this;
        }

        /** @return the checked configuration with the benchmark's defaults filled in */
        public ClassicConfig build() {
            return new ClassicConfig(benchmark, scenario, mnist, tasks, seeds, seed, epochs,
                    batchSize, learningRate, hidden, ewcLambda, ewcGamma, fisherSamples,
                    fisherMode, replaySamples, replayMode, replayBatch, streamBatch, merLr,
                    merBeta, merGamma, merSteps, merChunks, mamlInnerLr, evalBatch, threads)
                    .resolve();
        }
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
