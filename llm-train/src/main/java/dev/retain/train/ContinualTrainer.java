package dev.retain.train;

import dev.retain.core.text.Split;
import dev.retain.core.util.Progress;
import dev.retain.core.util.RunLock;
import dev.retain.eval.EvalResult;
import dev.retain.eval.forgotten.TokenDetail;
import dev.retain.eval.results.ResultsRecorder;
import dev.retain.train.lifecycle.DefaultFlow;
import dev.retain.train.lifecycle.Lifecycle;
import dev.retain.train.lifecycle.StageEvaluation;
import dev.retain.train.lifecycle.StageExport;
import dev.retain.train.lm.Strategies;
import dev.retain.train.optim.AdamW;
import dev.retain.train.plugin.Phase;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.StepResult;
import dev.retain.train.plugin.TrainContext;
import dev.retain.train.plugin.TrainControl;

import ai.djl.ndarray.NDManager;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The continual trainer: one loop that learns domains in turn; strategies are handed in as
 * {@link Plugin}s ({@link Strategies} maps a strategy name to them). Open one with {@link
 * #start} or {@link #resume} (or {@link #builder()} for the options); it comes whole from there.
 *
 * <p>Per optimizer step ({@link #step()}): {@code grad-accum} micro-batches of {@code batch-size}
 * windows ({@link MicroBatch}: replayed windows from plugins at the tail of each, new windows
 * before them), next-token cross-entropy averaged over all predicted tokens (so new and replayed
 * tokens weigh by their share), backward; then plugin gradient terms (EWC), global-norm clipping,
 * AdamW with the warm-up/cosine schedule of the domain. One thread owns the gradient collector.
 *
 * <p>At each domain's end ({@link #endDomain()}) the plugins' {@code afterDomain} run in list
 * order: the drift map, the strategy's (EWC's Fisher), then {@link StageExport} and {@link
 * StageEvaluation}; then the stage's costs go into results.json and a checkpoint is written
 * ({@link Checkpoints}). Plugins ask for checkpoints and evaluations ({@link DefaultFlow}); {@link
 * DivergenceGuard} stops a diverged run. A resumed run continues exactly as the uninterrupted run
 * would have.
 *
 * <p>{@link #run()} is the whole loop. A caller that drives the run itself (a benchmark, a
 * notebook) calls {@link #step()} until {@link #stepsLeftInDomain()} is 0, then {@link
 * #endDomain()}, and so on: the same code in the same order, without the evaluation and
 * checkpoint cadence and the progress bar of {@code run()}.
 *
 * <p>The class is the loop and the run's parts; the arithmetic of a step is {@link
 * OptimizerStep}'s, a domain's beginning and end, the checkpoints and the stage's wall time are
 * {@link DomainBoundaries}'.
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

    private final Path runDir;
    private final TrainConfig cfg;
    private final boolean progress;
    private final RunInputs in;
    private final TrainState state;
    private final ResultsRecorder results;
    private final NDManager stateManager;
    private final AdamW adam;
    private final List<Plugin> strategy;
    private final List<Plugin> plugins;
    private final StageEvaluation evaluation;
    private final Checkpoints checkpoints;
    private final TrainControl control = new TrainControl();
    private final TrainContext context;
    private final OptimizerStep optimizer;
    private final DomainBoundaries domains;
    private final List<EvalResult> base;
    private final TokenDetail baseDetail;
    private final RunLock lock;
    private StepResult last;
    private Divergence divergence;

    /**
     * Builds a trainer from what {@link RunLauncher} opened ({@code setup} as run.json holds it,
     * {@code in} loaded from the base model or a checkpoint's, the state and results where the run
     * stands, the base row and its token detail when computed elsewhere, the folder's lock):
     * every part is made here.
     */
    ContinualTrainer(RunSetup setup, Path runDir, boolean progress, RunInputs in,
            TrainState state, ResultsRecorder results,
            Function<Strategies.Parts, List<Plugin>> strategies, List<EvalResult> base,
            TokenDetail baseDetail, RunLock lock) {
        this.runDir = runDir;
        this.cfg = setup.config();
        this.progress = progress;
        this.in = in;
        this.state = state;
        this.results = results;
        this.base = base;
        this.baseDetail = baseDetail;
        this.lock = lock;
        this.stateManager = in.lm.manager().newSubManager();
        this.adam = new AdamW(stateManager, cfg.settings());
        this.strategy = List.copyOf(strategies.apply(new Strategies.Parts(cfg.settings(),
                stateManager, in.seqLen)));
        StageExport export = new StageExport(cfg.settings());
        this.evaluation = new StageEvaluation(cfg.settings());
        this.plugins = Lifecycle.plugins(cfg.settings(), stateManager, strategy,
                setup.general() != null, export, evaluation);
        this.checkpoints = new Checkpoints(runDir, cfg.get(TrainConfig.KEEP_CHECKPOINTS));
        DivergenceGuard guard = new DivergenceGuard(state, in.names,
                cfg.get(TrainConfig.DIVERGENCE_FACTOR), checkpoints::describeCurrent, runDir);
        this.context = new RunContext(new RunContext.Run(runDir, setup.model(), setup.tokenizer(),
                cfg.get(TrainConfig.BATCH_SIZE), cfg.get(TrainConfig.GRAD_ACCUM),
                cfg.get(TrainConfig.SEED), progress), in, state, results, control, guard, export);
        this.optimizer = new OptimizerStep(cfg, in, state, plugins, context, guard, adam);
        this.domains = new DomainBoundaries(runDir, cfg, in, state, results, plugins, strategy,
                context, adam, export, checkpoints);
    }

    /**
     * Starts a new run in {@code runDir} (which must not hold a run already) with the plugins of
     * the run's strategy: {@link TrainerBuilder#start} with progress as given.
     *
     * @param setup what to run
     * @param runDir the run folder
     * @param progress show progress on stderr
     * @return the trainer, ready to {@link #run()}
     * @throws IOException when the folder cannot be written
     */
    public static ContinualTrainer start(RunSetup setup, Path runDir, boolean progress)
            throws IOException {
        return builder().optProgress(progress).start(setup, runDir);
    }

    /**
     * Starts a new run with the strategy plugins a factory makes ({@link
     * TrainerBuilder#optStrategies}); otherwise as {@link #start(RunSetup, Path, boolean)}.
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
        return builder().optProgress(progress).optStrategies(strategies).start(setup, runDir);
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
        return builder().optProgress(progress).optExpectModel(expectModel).resume(runDir);
    }

    /** @return a builder, for the options of {@link #start} and {@link #resume} */
    public static TrainerBuilder builder() {
        return new TrainerBuilder();
    }

    /** Asks the loop to save a checkpoint and return after the current step (Ctrl-C). */
    public void requestStop() {
        control.requestStop();
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
            evaluation.base(context, base, baseDetail);
            results.write(runDir);
        }
        if (control.stopRequested()) { // stopped during the base evaluation
            checkpoint();
            return Outcome.INTERRUPTED;
        }
        // The stage's wall time runs from here (a resumed stage adds to what its checkpoint held).
        domains.startClock();
        while (state.stage < in.names.size()) {
            if (!trainStage()) {
                return Outcome.INTERRUPTED;
            }
            endDomain();
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
        if (total == 0 && state.stream == null) {
            domains.begin(); // a source a task-free run's max-steps cut off: scored, not trained
        }
        long t0 = System.nanoTime();
        long tokens0 = state.stats.tokens();
        try (Progress bar = new Progress(String.format(Locale.ROOT, "train %d/%d %s",
                state.stage + 1, in.names.size(), in.names.get(state.stage)), total, progress)) {
            bar.advance(state.stepInStage);
            bar.detail(() -> StepResult.describe(last, (state.stats.tokens() - tokens0)
                    / Math.max(1e-9, (System.nanoTime() - t0) / 1e9)));
            while (state.stepInStage < total) {
                step();
                bar.advance(1);
                if (control.takeEvaluate()) {
                    evaluateCurves();
                }
                if (control.stopRequested()) {
                    checkpoint();
                    results.write(runDir);
                    return false;
                }
                if (control.takeSave() && state.stepInStage < total) { // else the stage end's
                    checkpoint();
                }
            }
        }
        return true;
    }

    /**
     * @return the optimizer steps the current domain has left (0 when it is time for {@link
     *     #endDomain()}, or when the run has learned every domain)
     */
    public int stepsLeftInDomain() {
        return state.stage < in.names.size()
                ? in.stepsFor(state.stage, cfg) - state.stepInStage : 0;
    }

    /**
     * The run's next optimizer step, as {@link #run()} takes it: when it is the domain's first,
     * the domain begins (its window stream opens, the plugins' {@code beforeDomain} run); the
     * learning rate is the domain's schedule's at this step; the plugins' {@code afterStep} run
     * after the update (they may ask for an evaluation or a checkpoint, which {@code run()}
     * honours). Its time counts in the stage's training phase.
     *
     * @return what the step did
     * @throws IllegalStateException when every domain has been learned
     */
    public StepResult step() {
        if (state.stage >= in.names.size()) {
            throw new IllegalStateException("the run has learned every domain");
        }
        if (state.stream == null) {
            domains.begin();
        }
        last = optimizer.take(domains.lr());
        for (Plugin p : plugins) {
            p.afterStep(context, last);
        }
        return last;
    }

    /**
     * Writes a checkpoint of where the run stands now (model, optimizer, every plugin's state,
     * manifest), as the loop does every {@code save-every} steps and at every domain's end.
     *
     * @return the checkpoint's folder
     * @throws IOException when it cannot be written
     */
    public Path checkpoint() throws IOException {
        return domains.checkpoint(null);
    }

    /**
     * Ends the current domain as {@link #run()} does after its last step: every plugin's {@code
     * afterDomain} in list order (drift, the strategy's: EWC's Fisher, export, the stage
     * evaluation), the stage's row and costs into results.json, a checkpoint; then the next
     * domain (begun by the next {@link #step()}).
     *
     * @throws IOException when writing results or the checkpoint fails
     */
    public void endDomain() throws IOException {
        domains.end();
    }

    /**
     * Restores the optimizer, the plugins' states and the window stream from a checkpoint
     * ({@link DomainBoundaries#restore}).
     *
     * @param ckpt the checkpoint folder
     * @param adamSteps the optimizer's step count there
     * @throws IOException when a file cannot be read
     */
    void restore(Path ckpt, long adamSteps) throws IOException {
        domains.restore(ckpt, adamSteps);
    }

    private void evaluateCurves() {
        long t0 = System.nanoTime();
        for (EvalResult r : context.evaluate(Split.VALID, cfg.get(DefaultFlow.EVAL_WINDOWS))) {
            results.addCurve(state.globalStep, state.stage, r);
        }
        state.stats.add(Phase.EVAL, (System.nanoTime() - t0) / 1e9);
    }

    /** @return what plugins see of the run (the model, where the loop stands, ...) */
    public TrainContext context() {
        return context;
    }

    /** @return the run's settings */
    public TrainConfig config() {
        return cfg;
    }

    /** @return the results so far */
    public ResultsRecorder results() {
        return results;
    }

    /** @return the checkpoint writer (tests make a write fail through it) */
    Checkpoints checkpoints() {
        return checkpoints;
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
