package dev.retain.train;

import dev.retain.core.Engines;
import dev.retain.core.UserError;
import dev.retain.core.model.CausalLm;
import dev.retain.core.model.LmLoss;
import dev.retain.core.model.NamedParameter;
import dev.retain.core.text.Split;
import dev.retain.core.text.TokenFile;
import dev.retain.core.util.Hashing;
import dev.retain.core.util.Json;
import dev.retain.core.util.Progress;
import dev.retain.eval.EvalResult;
import dev.retain.train.config.TrainConfig;
import dev.retain.train.lifecycle.DefaultFlow;
import dev.retain.train.lifecycle.DriftRecorder;
import dev.retain.train.lifecycle.LossCurve;
import dev.retain.train.lifecycle.StageEvaluation;
import dev.retain.train.lifecycle.StageExport;
import dev.retain.train.lm.Strategies;
import dev.retain.train.lm.WindowStream;
import dev.retain.train.optim.AdamW;
import dev.retain.train.optim.GradClip;
import dev.retain.train.optim.Schedule;
import dev.retain.train.plugin.Phase;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;
import dev.retain.train.plugin.TrainControl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Function;

/**
 * The continual trainer: one loop that learns domains in turn; strategies are handed in as
 * {@link Plugin}s ({@link Strategies} maps a strategy name to them).
 *
 * <p>Per optimizer step ({@link #step}): {@code grad-accum} micro-batches of {@code batch-size}
 * windows (replayed windows from plugins fill the tail of each micro-batch, new windows the rest),
 * next-token cross-entropy averaged over all predicted tokens (so new and replayed tokens weigh by
 * their share), backward; then plugin gradient terms (EWC), global-norm clipping, AdamW with the
 * warm-up/cosine schedule of the domain. One thread owns the gradient collector.
 *
 * <p>After each domain every plugin's {@code afterDomain} runs in list order: the strategy's
 * plugins (EWC's Fisher), then the lifecycle plugins {@link DriftRecorder}, {@link StageExport}
 * ({@code stage-K-DOMAIN.pt}) and {@link StageEvaluation} (every domain's test split); then the
 * stage's costs go into results.json and a checkpoint is written ({@link Checkpoints}). The loop
 * also checkpoints and evaluates when a plugin asks ({@link DefaultFlow}: every {@code
 * save-every} and {@code eval-every} steps). A run resumed from a checkpoint continues exactly as
 * the uninterrupted run would have.
 */
public final class ContinualTrainer implements TrainContext, AutoCloseable {

    /** How a call to {@link #run()} ended. */
    public enum Outcome {
        /** Every domain was learned. */
        COMPLETE,
        /** A stop was requested (Ctrl-C); a checkpoint was saved. */
        INTERRUPTED
    }

    private final RunSetup setup;
    private final Path runDir;
    private final TrainConfig cfg;
    private final boolean progress;
    private final RunInputs in;
    private final NDManager stateManager;
    private final AdamW adam;
    private final List<Plugin> strategy;
    private final List<Plugin> plugins = new ArrayList<>();
    private final Checkpoints checkpoints;
    private final TrainControl control = new TrainControl();
    private final Engine engine = Engines.pytorch();
    private TrainState state;
    private RunResults results;
    private List<EvalResult> base;
    private StepResult last;
    /** {@code System.nanoTime()} up to which the stage's wall time is in the stage stats. */
    private long wallMark;

    private ContinualTrainer(RunSetup setup, Path runDir, boolean progress,
            Function<Strategies.Parts, List<Plugin>> strategies) {
        this.setup = setup;
        this.runDir = runDir;
        this.cfg = setup.config();
        this.progress = progress;
        this.in = RunInputs.load(setup);
        this.stateManager = in.lm.manager().newSubManager();
        this.adam = new AdamW(stateManager, cfg.beta1(), cfg.beta2(), cfg.adamEps());
        this.strategy = List.copyOf(strategies.apply(new Strategies.Parts(cfg, stateManager,
                in.seqLen)));
        plugins.addAll(strategy);
        plugins.addAll(List.of(new DriftRecorder(stateManager), new StageExport(),
                new StageEvaluation(), new DefaultFlow(), new LossCurve()));
        this.checkpoints = new Checkpoints(runDir);
    }

    /**
     * Starts a new run in {@code runDir} (which must not hold a run already) with the plugins of
     * the run's strategy.
     *
     * @param setup what to run
     * @param runDir the run folder
     * @param progress show progress on stderr
     * @return the trainer, ready to {@link #run()}
     * @throws IOException when the folder cannot be written
     */
    public static ContinualTrainer start(RunSetup setup, Path runDir, boolean progress)
            throws IOException {
        return start(setup, runDir, progress, Strategies::plugins);
    }

    /**
     * Starts a new run with the strategy plugins a factory makes.
     *
     * @param setup what to run
     * @param runDir the run folder
     * @param progress show progress on stderr
     * @param strategies makes the strategy's plugins (they run before the lifecycle plugins)
     * @return the trainer
     * @throws IOException when the folder cannot be written
     */
    public static ContinualTrainer start(RunSetup setup, Path runDir, boolean progress,
            Function<Strategies.Parts, List<Plugin>> strategies) throws IOException {
        if (Files.exists(runDir.resolve(RunSetup.FILE))) {
            throw new UserError(runDir + ": already holds a run; continue it with --resume "
                    + runDir + " or choose another --out");
        }
        Files.createDirectories(runDir);
        // Measure this run's peak memory from here, not the peaks of what ran before in this JVM.
        boolean reset = RunResults.resetPeakRss();
        ContinualTrainer t = new ContinualTrainer(setup, runDir, progress, strategies);
        setup.write(runDir);
        t.state = new TrainState(new Random(Seeds.derive(setup.config().seed(), "plugins", 0)));
        ObjectNode model = Json.object();
        model.put("path", setup.model().toString());
        model.put("parameters", t.in.lm.parameterCount());
        model.put("context", t.in.lm.context());
        model.put("vocab_size", t.in.lm.vocabSize());
        model.put("seq_len", t.in.seqLen);
        t.results = RunResults.start(setup.name(), setup.config().strategy(),
                setup.config().toJson(), model, t.in.names);
        t.results.peakRssScope(reset);
        t.writeConfigBeside();
        return t;
    }

    /**
     * Continues a run from its last checkpoint (or from the start when it has none yet).
     *
     * @param runDir the run folder
     * @param expectModel a model the caller expects the run to use, or null
     * @param progress show progress
     * @return the trainer, positioned where the checkpoint left off
     * @throws IOException when reading fails
     */
    public static ContinualTrainer resume(Path runDir, Path expectModel, boolean progress)
            throws IOException {
        return resume(runDir, expectModel, progress, Strategies::plugins);
    }

    /**
     * Continues a run with the strategy plugins a factory makes (the ones it started with).
     *
     * @param runDir the run folder
     * @param expectModel a model the caller expects the run to use, or null
     * @param progress show progress
     * @param strategies makes the strategy's plugins
     * @return the trainer, positioned where the checkpoint left off
     * @throws IOException when reading fails
     */
    public static ContinualTrainer resume(Path runDir, Path expectModel, boolean progress,
            Function<Strategies.Parts, List<Plugin>> strategies) throws IOException {
        RunSetup setup = RunSetup.read(runDir);
        if (expectModel != null && !Hashing.sha256(expectModel).equals(setup.modelSha256())) {
            throw new UserError(runDir + ": this run was made with another model ("
                    + setup.model() + "), not " + expectModel + "; resume without --model or"
                    + " start a new run");
        }
        if (!Files.isRegularFile(setup.model())
                || !Hashing.sha256(setup.model()).equals(setup.modelSha256())) {
            throw new UserError(setup.model() + ": the base model of run " + runDir
                    + " is missing or has changed since the run started; restore it to resume");
        }
        Path ckpt = new Checkpoints(runDir).current();
        if (ckpt == null) {
            // Killed before the first checkpoint: start over in the same folder.
            Files.delete(runDir.resolve(RunSetup.FILE));
            Files.deleteIfExists(runDir.resolve("results.json"));
            return start(setup, runDir, progress, strategies);
        }
        boolean reset = RunResults.resetPeakRss();
        RunSetup atCheckpoint = new RunSetup(setup.name(), setup.config(),
                ckpt.resolve("model.pt"), setup.modelSha256(), setup.tokenizer(), setup.domains());
        ContinualTrainer t = new ContinualTrainer(atCheckpoint, runDir, progress, strategies);
        Checkpoints.Restored r = Checkpoints.readState(ckpt);
        t.state = r.state();
        t.results = r.results();
        Checkpoints.loadTensors(ckpt, t.adam, r.adamSteps(), t.plugins, t, t.in.lm.manager());
        if (t.state.streamOpen && t.state.stage < t.in.names.size()) {
            t.openStream();
            t.state.stream.seek(t.state.streamEpoch, t.state.streamIndex);
        }
        t.results.peakRssScope(reset);
        return t;
    }

    /** Asks the loop to save a checkpoint and return after the current step (Ctrl-C). */
    public void requestStop() {
        control.requestStop();
    }

    /**
     * Uses an already computed base-model row (the experiment runner evaluates the base once for
     * all its variants) instead of evaluating it again.
     *
     * @param row one result per domain, in training order, with the run's test-windows setting
     */
    public void baseRow(List<EvalResult> row) {
        this.base = row;
    }

    void saveHook(Checkpoints.SaveHook hook) {
        checkpoints.hook(hook);
    }

    /**
     * Trains the remaining domains.
     *
     * @return how it ended
     * @throws IOException when writing results or checkpoints fails
     */
    public Outcome run() throws IOException {
        if (results.rows() == 0) {
            results.addRow(base != null ? base : evaluate(Split.TEST, cfg.testWindows()));
            results.write(runDir);
        }
        // The stage's wall time runs from here (a resumed stage adds to what its checkpoint held).
        wallMark = System.nanoTime();
        while (state.stage < in.names.size()) {
            if (state.stepInStage == 0 && state.stream == null) {
                beginStage();
            }
            if (!trainStage()) {
                return Outcome.INTERRUPTED;
            }
            endStage();
            if (control.stopRequested()) {
                return Outcome.INTERRUPTED;
            }
        }
        results.complete();
        results.write(runDir);
        return Outcome.COMPLETE;
    }

    /** The steps of the current domain; false when a stop was requested (checkpoint saved). */
    private boolean trainStage() throws IOException {
        int total = stepsFor(state.stage);
        Schedule schedule = new Schedule(cfg.learningRate(), cfg.warmupSteps(), total,
                cfg.minLrRatio());
        long t0 = System.nanoTime();
        long tokens0 = state.stats.tokens();
        try (Progress bar = new Progress(String.format(Locale.ROOT, "train %d/%d %s",
                state.stage + 1, in.names.size(), in.names.get(state.stage)), total, progress)) {
            bar.advance(state.stepInStage);
            bar.detail(() -> progressDetail((state.stats.tokens() - tokens0)
                    / Math.max(1e-9, (System.nanoTime() - t0) / 1e9)));
            while (state.stepInStage < total) {
                long s0 = System.nanoTime();
                step(schedule.lr(state.stepInStage));
                state.stats.add(Phase.TRAIN, (System.nanoTime() - s0) / 1e9);
                bar.advance(1);
                if (control.takeEvaluate()) {
                    evaluateCurves();
                }
                if (control.stopRequested()) {
                    checkpoint();
                    results.write(runDir);
                    return false;
                }
                if (control.takeSave()) {
                    checkpoint();
                }
            }
        }
        return true;
    }

    /**
     * One optimizer step of the current domain: the loop's unit of work, also what benchmarks
     * time. Opens the domain first when needed.
     *
     * @param lr the learning rate of this step
     * @return what the step did
     */
    public StepResult step(double lr) {
        if (state.stream == null) {
            beginStage();
        }
        // Dropout (where a model has it) draws from libtorch's generator: seed it per step so that
        // a resumed run draws the same masks.
        engine.setRandomSeed((int) Seeds.derive(cfg.seed(), "step", state.globalStep));
        StepLosses losses = new StepLosses(cfg.batchSize() * cfg.gradAccum());
        double penalty = 0;
        try (NDManager scope = in.lm.manager().newSubManager()) {
            for (int micro = 0; micro < cfg.gradAccum(); micro++) {
                int replayed = fillMicroBatch(losses);
                losses.addRows(forwardBackward(scope, losses.ids), replayed);
                state.stats.newTokens += (long) (cfg.batchSize() - replayed) * in.seqLen;
                state.stats.replayTokens += (long) replayed * in.seqLen;
            }
            if (!Double.isFinite(losses.loss())) {
                diverged("loss " + losses.loss());
            }
            for (Plugin p : plugins) {
                penalty += p.afterBackward(this, scope);
            }
            double norm = GradClip.norm(in.lm.parameters(), scope, 1.0);
            if (!Double.isFinite(norm)) {
                diverged("gradient norm " + norm);
            }
            adam.step(in.lm.parameters(), lr, cfg.weightDecay(), cfg.decayAll(),
                    GradClip.scale(norm, cfg.maxGradNorm()));
        }
        state.stepped();
        last = losses.result(penalty, in.seqLen);
        for (Plugin p : plugins) {
            p.afterStep(this, last);
        }
        return last;
    }

    /**
     * Fills {@code losses.ids} with one micro-batch: replayed windows from the plugins at the
     * tail, new windows of the domain's stream before them.
     *
     * @return how many rows were replayed
     */
    private int fillMicroBatch(StepLosses losses) {
        int b = cfg.batchSize();
        int seqLen = in.seqLen;
        int wantReplay = cfg.replayRows();
        losses.ids = new long[b * seqLen];
        int got = 0;
        if (wantReplay > 0) {
            long[] rep = new long[wantReplay * seqLen];
            for (Plugin p : plugins) {
                got += p.replayWindows(this, wantReplay - got, rep, got * seqLen);
            }
            System.arraycopy(rep, 0, losses.ids, (b - got) * seqLen, got * seqLen);
        }
        for (int r = 0; r < b - got; r++) {
            long s = state.stream.next();
            state.stream.copy(s, losses.ids, r * seqLen);
            losses.started(s);
        }
        return got;
    }

    /** Forward, per-token loss, backward of one micro-batch; returns each row's mean loss. */
    private float[] forwardBackward(NDManager scope, long[] ids) {
        try (GradientCollector gc = engine.newGradientCollector()) {
            NDArray input = scope.create(ids, new Shape(cfg.batchSize(), in.seqLen));
            NDArray tok = LmLoss.tokenNll(in.lm.logits(input, true), input);
            NDArray rows = tok.mean(new int[] {1});
            gc.backward(rows.mean().div(cfg.gradAccum()));
            return rows.toFloatArray();
        }
    }

    private void beginStage() {
        state.stats = new StageStats(state.globalStep);
        wallMark = System.nanoTime();
        if (results.boundaries() <= state.stage) {
            results.addBoundary(state.globalStep);
        }
        openStream();
        for (Plugin p : plugins) {
            p.beforeDomain(this);
        }
    }

    private void openStream() {
        state.stream = new WindowStream(in.split(Split.TRAIN).get(state.stage), in.seqLen,
                Seeds.derive(cfg.seed(), "data", state.stage));
    }

    /**
     * For benchmarks: the strategies' domain-end work (EWC's Fisher, without drift, export,
     * evaluation or checkpoint), then on to the next domain.
     */
    public void skipToNextDomain() {
        for (Plugin p : strategy) {
            p.afterDomain(this);
        }
        state.nextStage();
    }

    /** Steps in a domain: from --epochs when set, else --max-steps-per-domain. */
    int stepsFor(int k) {
        if (cfg.epochs() > 0) {
            long windows = in.split(Split.TRAIN).get(k).size() / in.seqLen;
            double perStep = (double) cfg.batchSize() * cfg.gradAccum();
            return (int) Math.max(1, Math.ceil(cfg.epochs() * windows / perStep));
        }
        return cfg.maxStepsPerDomain();
    }

    private void diverged(String what) {
        throw new UserError(String.format(Locale.ROOT, "training diverged at step %d (domain %s,"
                + " step %d): %s; stopped without saving, the last good checkpoint (%s) is kept"
                + " in %s; start again with a lower --learning-rate or --max-grad-norm",
                state.globalStep + 1, in.names.get(state.stage), state.stepInStage + 1, what,
                checkpoints.describeCurrent(), runDir));
    }

    private void endStage() throws IOException {
        for (Plugin p : plugins) {
            p.afterDomain(this); // strategies (EWC's Fisher), drift, export, stage evaluation
        }
        foldWall();
        StageStats stats = state.stats;
        ObjectNode s = stats.summary(state.stage, in.names.get(state.stage), state.stepInStage,
                StageExport.fileName(state.stage, in.names.get(state.stage)));
        results.addStage(s);
        results.peakRss(RunResults.peakRssBytes());
        state.nextStage();
        results.write(runDir);
        long c0 = System.nanoTime();
        checkpoint();
        // The stage-end checkpoint holds this stage's row, so it is written first and its time
        // added afterwards (to results.json and to the next checkpoint's copy of the results; a
        // run resumed from this very checkpoint goes without it, as for every checkpoint's own
        // writing time).
        double wall = stats.wallSeconds + (System.nanoTime() - c0) / 1e9;
        s.put("wall_seconds", wall);
        s.put("other_seconds", Math.max(0, wall - stats.phaseSeconds()));
        wallMark = System.nanoTime();
        results.write(runDir);
    }

    /** Adds the time since {@link #wallMark} to the stage's wall time. */
    private void foldWall() {
        long now = System.nanoTime();
        state.stats.wallSeconds += (now - wallMark) / 1e9;
        wallMark = now;
    }

    private void checkpoint() throws IOException {
        foldWall();
        checkpoints.save(state, in.lm, adam, plugins, results);
    }

    private void evaluateCurves() {
        long t0 = System.nanoTime();
        for (EvalResult r : evaluate(Split.VALID, cfg.evalWindows())) {
            results.addCurve(state.globalStep, state.stage, r);
        }
        state.stats.add(Phase.EVAL, (System.nanoTime() - t0) / 1e9);
    }

    private String progressDetail(double tokensPerSecond) {
        StepResult r = last != null ? last : new StepResult(0, 0, 0, 0, 0, 0, new long[0]);
        return String.format(Locale.ROOT, "loss %.3f (new %.3f%s, ewc %.4f)  %.0f tok/s",
                r.total(), r.newLoss(), Double.isNaN(r.replayLoss()) ? ""
                        : String.format(Locale.ROOT, ", replay %.3f", r.replayLoss()),
                r.penalty(), tokensPerSecond);
    }

    private void writeConfigBeside() throws IOException {
        Path src = setup.model().getParent().resolve("config.json");
        ObjectNode cfgJson = Files.isRegularFile(src)
                ? (ObjectNode) Json.MAPPER.readTree(src.toFile()) : Json.object();
        cfgJson.put("n_positions", in.lm.context());
        cfgJson.put("vocab_size", in.lm.vocabSize());
        Json.write(runDir.resolve("config.json"), cfgJson);
    }

    // ---------------------------------------------------------------- context

    @Override
    public CausalLm model() {
        return in.lm;
    }

    @Override
    public List<NamedParameter> parameters() {
        return in.lm.parameters();
    }

    @Override
    public TrainConfig config() {
        return cfg;
    }

    @Override
    public int seqLen() {
        return in.seqLen;
    }

    @Override
    public int stage() {
        return state.stage;
    }

    @Override
    public List<String> domains() {
        return in.names;
    }

    @Override
    public TokenFile trainTokens(int index) {
        return in.split(Split.TRAIN).get(index);
    }

    @Override
    public int stepInStage() {
        return state.stepInStage;
    }

    @Override
    public long globalStep() {
        return state.globalStep;
    }

    @Override
    public Random rng() {
        return state.rng;
    }

    @Override
    public void addSeconds(Phase phase, double seconds) {
        state.stats.add(phase, seconds);
    }

    @Override
    public TrainControl control() {
        return control;
    }

    @Override
    public RunResults results() {
        return results;
    }

    @Override
    public List<EvalResult> evaluate(Split split, long maxWindows) {
        return in.evaluate(split, maxWindows, progress);
    }

    @Override
    public Path runDir() {
        return runDir;
    }

    /**
     * @param split a split
     * @return that split of every domain, in training order
     */
    public List<TokenFile> split(Split split) {
        return in.split(split);
    }

    /** @return the strategy's plugins, in order (without the lifecycle plugins) */
    public List<Plugin> plugins() {
        return strategy;
    }

    @Override
    public void close() {
        for (Plugin p : plugins) {
            if (p instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    // closing native memory does not fail in a way we could act on
                }
            }
        }
        adam.close();
        stateManager.close();
        in.close();
    }

    /** The losses of one step's micro-batches, summed per kind of row in the batch order. */
    private static final class StepLosses {
        long[] ids;
        private final long[] starts;
        private int nStarts;
        private double newSum;
        private int newRows;
        private double repSum;
        private int repRows;

        StepLosses(int maxRows) {
            this.starts = new long[maxRows];
        }

        void started(long start) {
            starts[nStarts++] = start;
        }

        /** Rows before the last {@code replayed} are new windows, the rest replayed ones. */
        void addRows(float[] rowLoss, int replayed) {
            int fresh = rowLoss.length - replayed;
            for (int r = 0; r < rowLoss.length; r++) {
                if (r < fresh) {
                    newSum += rowLoss[r];
                    newRows++;
                } else {
                    repSum += rowLoss[r];
                    repRows++;
                }
            }
        }

        double loss() {
            return (newSum + repSum) / (newRows + repRows);
        }

        StepResult result(double penalty, int seqLen) {
            return new StepResult(loss(), newSum / newRows,
                    repRows > 0 ? repSum / repRows : Double.NaN, penalty,
                    (long) newRows * seqLen, (long) repRows * seqLen,
                    Arrays.copyOf(starts, nStarts));
        }
    }
}
