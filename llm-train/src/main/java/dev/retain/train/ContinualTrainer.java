package dev.retain.train;

import dev.retain.core.Engines;
import dev.retain.core.text.Split;
import dev.retain.core.util.Progress;
import dev.retain.core.util.ResidentMemory;
import dev.retain.core.util.RunLock;
import dev.retain.eval.EvalResult;
import dev.retain.eval.results.ResultsRecorder;
import dev.retain.train.config.TrainConfig;
import dev.retain.train.lifecycle.DefaultFlow;
import dev.retain.train.lifecycle.DriftRecorder;
import dev.retain.train.lifecycle.LossCurve;
import dev.retain.train.lifecycle.StageEvaluation;
import dev.retain.train.lifecycle.StageExport;
import dev.retain.train.lm.GeneralReplayPlugin;
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
import ai.djl.ndarray.NDManager;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
 * <p>After each domain the plugins' {@code afterDomain} run in list order: the strategy's (EWC's
 * Fisher), then {@link DriftRecorder}, {@link StageExport} and {@link StageEvaluation}; then the
 * stage's costs go into results.json and a checkpoint is written ({@link Checkpoints}). Plugins ask
 * for checkpoints and evaluations ({@link DefaultFlow}); {@link DivergenceGuard} stops a diverged
 * run. A resumed run continues exactly as the uninterrupted run would have.
 */
public final class ContinualTrainer implements AutoCloseable {

    /** How a call to {@link #run()} ended. */
    public enum Outcome {
        /** Every domain was learned. */
        COMPLETE,
        /** A stop was requested (Ctrl-C); a checkpoint was saved. */
        INTERRUPTED,
        /** Training diverged ({@link #divergence()}); results.json says so; nothing saved. */
        DIVERGED
    }

    final Path runDir;
    final TrainConfig cfg;
    final boolean progress;
    final RunInputs in;
    private final NDManager stateManager;
    final AdamW adam;
    private final List<Plugin> strategy;
    final List<Plugin> plugins = new ArrayList<>();
    final Checkpoints checkpoints;
    final DivergenceGuard guard = new DivergenceGuard(this);
    private final StageExport export = new StageExport();
    private final RunLock lock;
    final TrainControl control = new TrainControl();
    final TrainContext context = new RunContext(this);
    private final Engine engine = Engines.pytorch();
    TrainState state;
    /** The micro-batch of the step being built or trained ({@link TrainContext#microBatch()}). */
    int micro;
    ResultsRecorder results;
    private List<EvalResult> base;
    private StepResult last;
    private Divergence divergence;
    /** {@code System.nanoTime()} up to which the stage's wall time is in the stage stats. */
    private long wallMark;

    ContinualTrainer(RunSetup setup, Path runDir, boolean progress,
            Function<Strategies.Parts, List<Plugin>> strategies, RunLock lock) {
        this.lock = lock;
        this.runDir = runDir;
        this.cfg = setup.config();
        this.progress = progress;
        this.in = RunInputs.load(setup, progress);
        this.stateManager = in.lm.manager().newSubManager();
        this.adam = new AdamW(stateManager, cfg.beta1(), cfg.beta2(), cfg.adamEps());
        this.strategy = List.copyOf(strategies.apply(new Strategies.Parts(cfg, stateManager,
                in.seqLen)));
        // The drift map first: at a domain's end its Fisher runs before the strategies' state
        // (EWC's F and theta*) exists, so the two are never in memory together (GPT-2 small: a
        // parameter-sized peak less); it only reads the parameters, which nothing has changed.
        plugins.add(new DriftRecorder(stateManager));
        plugins.addAll(strategy);
        if (setup.general() != null) {
            plugins.add(new GeneralReplayPlugin()); // --general: replayed with any strategy
        }
        plugins.addAll(List.of(export, new StageEvaluation(), new DefaultFlow(),
                new LossCurve()));
        this.checkpoints = new Checkpoints(runDir, cfg.keepCheckpoints());
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
        return RunLauncher.start(setup, runDir, progress, strategies);
    }

    /**
     * Continues a run from its newest verified checkpoint (or from the start when it has none).
     *
     * @param runDir the run folder
     * @param expectModel a model the caller expects the run to use, or null
     * @param progress show progress
     * @return the trainer, positioned where the checkpoint left off
     * @throws IOException when reading fails
     */
    public static ContinualTrainer resume(Path runDir, Path expectModel, boolean progress)
            throws IOException {
        return resume(runDir, expectModel, progress, false, Strategies::plugins);
    }

    /**
     * Continues a run with the strategy plugins a factory makes (the ones it started with).
     *
     * @param runDir the run folder
     * @param expectModel a model the caller expects the run to use, or null
     * @param progress show progress
     * @param allowChangedData go on (with a warning, recorded in results.json) when the
     *     tokenizer or a domain's text changed since the run started, instead of refusing
     * @param strategies makes the strategy's plugins
     * @return the trainer, positioned where the checkpoint left off
     * @throws IOException when reading fails
     */
    public static ContinualTrainer resume(Path runDir, Path expectModel, boolean progress,
            boolean allowChangedData, Function<Strategies.Parts, List<Plugin>> strategies)
            throws IOException {
        return RunLauncher.resume(runDir, expectModel, progress, allowChangedData, strategies);
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

    /**
     * Trains the remaining domains.
     *
     * @return how it ended
     * @throws IOException when writing results or checkpoints fails
     */
    public Outcome run() throws IOException {
        try {
            return runStages();
        } catch (Divergence d) {
            divergence = d;
            results.diverged(d.toJson());
            results.write(runDir);
            return Outcome.DIVERGED;
        }
    }

    /** @return why the run diverged, or null when it did not */
    public Divergence divergence() {
        return divergence;
    }

    private Outcome runStages() throws IOException {
        if (results.rows() == 0) {
            results.addRow(base != null ? base : context.evaluate(Split.TEST, cfg.testWindows()));
            results.addHeldOut(context.evaluateHeldOut(Split.TEST, cfg.testWindows()));
            results.write(runDir);
        }
        if (control.stopRequested()) { // stopped during the base evaluation
            checkpoint(null);
            return Outcome.INTERRUPTED;
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
        int total = in.stepsFor(state.stage, cfg);
        Schedule schedule = Schedule.of(cfg, state.stage, total);
        long t0 = System.nanoTime();
        long tokens0 = state.stats.tokens();
        try (Progress bar = new Progress(String.format(Locale.ROOT, "train %d/%d %s",
                state.stage + 1, in.names.size(), in.names.get(state.stage)), total, progress)) {
            bar.advance(state.stepInStage);
            bar.detail(() -> StepResult.describe(last, (state.stats.tokens() - tokens0)
                    / Math.max(1e-9, (System.nanoTime() - t0) / 1e9)));
            while (state.stepInStage < total) {
                state.stats.add(Phase.TRAIN, step(schedule.lr(state.stepInStage)).seconds());
                bar.advance(1);
                if (control.takeEvaluate()) {
                    evaluateCurves();
                }
                if (control.stopRequested()) {
                    checkpoint(null);
                    results.write(runDir);
                    return false;
                }
                if (control.takeSave() && state.stepInStage < total) { // else the stage end's
                    checkpoint(null);
                }
            }
        }
        return true;
    }

    /**
     * One optimizer step of the current domain (what benchmarks time); opens the domain if needed.
     *
     * @param lr the learning rate of this step
     * @return what the step did
     */
    public StepResult step(double lr) {
        if (state.stream == null) {
            beginStage();
        }
        long s0 = System.nanoTime();
        // Dropout (where a model has it) draws from libtorch's generator: seed it per step so that
        // a resumed run draws the same masks.
        engine.setRandomSeed((int) Seeds.derive(cfg.seed(), "step", state.globalStep));
        StepLosses losses = new StepLosses(cfg.batchSize() * cfg.gradAccum());
        double penalty = 0;
        double norm;
        try (NDManager scope = in.lm.manager().newSubManager()) {
            for (micro = 0; micro < cfg.gradAccum(); micro++) {
                int replayed = MicroBatch.fill(this, losses);
                losses.addRows(MicroBatch.forwardBackward(this, scope, losses, replayed),
                        replayed);
                state.stats.newTokens += (long) cfg.newRows(replayed) * in.seqLen;
                state.stats.replayTokens += (long) replayed * in.seqLen;
                state.stats.tokenPasses += 2L * losses.ids.length; // forward and backward
            }
            micro = 0;
            guard.loss(losses.loss());
            for (Plugin p : plugins) {
                penalty += p.afterBackward(context, scope);
            }
            norm = GradClip.norm(in.trained, scope, 1.0);
            guard.gradNorm(norm);
            adam.step(in.trained, lr, cfg.weightDecay(), cfg.decayAll(),
                    GradClip.scale(norm, cfg.maxGradNorm()));
        }
        state.stepped();
        last = losses.result(penalty + losses.terms(), in.seqLen, lr, norm,
                (System.nanoTime() - s0) / 1e9);
        for (Plugin p : plugins) {
            p.afterStep(context, last);
        }
        return last;
    }

    private void beginStage() {
        state.stats = new StageStats(state.globalStep);
        wallMark = System.nanoTime();
        if (results.boundaries() <= state.stage) {
            results.addBoundary(state.globalStep);
        }
        openStream();
        for (Plugin p : plugins) {
            p.beforeDomain(context);
        }
    }

    void openStream() {
        state.stream = new WindowStream(in.split(Split.TRAIN).get(state.stage), in.seqLen,
                Seeds.derive(cfg.seed(), "data", state.stage));
    }

    /**
     * For benchmarks: writes a checkpoint of where the run stands now (model, optimizer, every
     * plugin's state, manifest), as the loop does every {@code save-every} steps.
     *
     * @return the checkpoint's folder
     * @throws IOException when it cannot be written
     */
    public Path saveCheckpoint() throws IOException {
        return checkpoint(null);
    }

    /**
     * For benchmarks: the strategies' domain-end work (EWC's Fisher, without drift, export,
     * evaluation or checkpoint), then on to the next domain.
     */
    public void skipToNextDomain() {
        for (Plugin p : strategy) {
            p.afterDomain(context);
        }
        state.nextStage();
    }

    private void endStage() throws IOException {
        for (Plugin p : plugins) {
            p.afterDomain(context); // strategies (EWC's Fisher), drift, export, stage evaluation
        }
        foldWall();
        Path model = export.written(state.stage);
        results.addStage(state.stats.cost(state.stage, in.names.get(state.stage),
                state.stepInStage), export.outputName(state.stage));
        results.peakRss(ResidentMemory.peakBytes());
        state.nextStage();
        results.write(runDir);
        long c0 = System.nanoTime();
        checkpoint(model);
        // Its own writing time is added after the checkpoint (that holds this stage's row), as
        // for every checkpoint; a run resumed from this very checkpoint goes without it.
        results.addLastStageSeconds((System.nanoTime() - c0) / 1e9);
        wallMark = System.nanoTime();
        results.write(runDir);
    }

    /** Adds the time since {@link #wallMark} to the stage's wall time. */
    private void foldWall() {
        long now = System.nanoTime();
        state.stats.wallSeconds += (now - wallMark) / 1e9;
        wallMark = now;
    }

    private Path checkpoint(Path model) throws IOException {
        foldWall();
        // After the last stage no step follows: its checkpoint goes without the optimizer.
        return checkpoints.save(state, in.lm, state.stage < in.names.size() ? adam : null,
                plugins, results, model);
    }

    private void evaluateCurves() {
        long t0 = System.nanoTime();
        for (EvalResult r : context.evaluate(Split.VALID, cfg.evalWindows())) {
            results.addCurve(state.globalStep, state.stage, r);
        }
        state.stats.add(Phase.EVAL, (System.nanoTime() - t0) / 1e9);
    }

    /** @return what plugins see of the run (the model, settings, where the loop stands) */
    public TrainContext context() {
        return context;
    }

    /** @return the results so far */
    public ResultsRecorder results() {
        return results;
    }

    /** @return the strategy's plugins, in order (without the lifecycle plugins) */
    public List<Plugin> plugins() {
        return strategy;
    }

    @Override
    public void close() {
        closeKeepingLock();
        lock.close();
    }

    /** Frees the model and the plugins' memory; the run folder stays locked. */
    void closeKeepingLock() {
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
}
