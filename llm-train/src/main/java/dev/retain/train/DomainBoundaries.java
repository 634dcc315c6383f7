package dev.retain.train;

import dev.retain.core.text.Split;
import dev.retain.core.util.ResidentMemory;
import dev.retain.core.util.Seeds;
import dev.retain.eval.results.ResultsRecorder;
import dev.retain.train.lifecycle.StageExport;
import dev.retain.train.lm.WindowStream;
import dev.retain.train.optim.AdamW;
import dev.retain.train.optim.Schedule;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;
import dev.retain.train.stream.StreamKeys;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The domain boundaries of a {@link ContinualTrainer} run and the checkpoints written at and
 * between them. It owns a domain's beginning (its stage stats, its boundary in results.json, its
 * window stream and learning-rate schedule, the plugins' {@code beforeDomain}), its end (the
 * plugins' {@code afterDomain}, the stage's costs in results.json, the checkpoint with the stage
 * model), every checkpoint's write ({@link Checkpoints}) and a resume's restore; and the stage's
 * wall time, which runs from one of these points to the next and is folded into the stage's stats
 * at each.
 */
final class DomainBoundaries {

    private final Path runDir;
    private final TrainConfig cfg;
    private final RunInputs in;
    private final TrainState state;
    private final ResultsRecorder results;
    private final List<Plugin> plugins;
    /** The strategy's plugins: a task-free run does not tell them where a domain begins or ends. */
    private final java.util.Set<Plugin> strategy;
    private final boolean taskFree;
    private final TrainContext context;
    private final AdamW adam;
    private final StageExport export;
    private final Checkpoints checkpoints;
    private Schedule schedule;
    /** {@code System.nanoTime()} up to which the stage's wall time is in the stage stats. */
    private long wallMark;

    /**
     * @param runDir the run folder
     * @param cfg the run's settings
     * @param in the model and the data
     * @param state where the run stands
     * @param results the results so far
     * @param plugins every plugin, in hook order
     * @param strategy the strategy's plugins among them
     * @param context what the plugins see
     * @param adam the optimizer (its moments go into checkpoints)
     * @param export the stage models' export (the checkpoint of a stage end links its model)
     * @param checkpoints the checkpoint writer
     */
    DomainBoundaries(Path runDir, TrainConfig cfg, RunInputs in, TrainState state,
            ResultsRecorder results, List<Plugin> plugins, List<Plugin> strategy,
            TrainContext context, AdamW adam, StageExport export, Checkpoints checkpoints) {
        this.runDir = runDir;
        this.cfg = cfg;
        this.in = in;
        this.state = state;
        this.results = results;
        this.plugins = plugins;
        this.strategy = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        this.strategy.addAll(strategy);
        this.taskFree = cfg.get(StreamKeys.TASK_FREE);
        this.context = context;
        this.adam = adam;
        this.export = export;
        this.checkpoints = checkpoints;
    }

    /** Starts the stage's wall time from now. */
    void startClock() {
        wallMark = System.nanoTime();
    }

    /** The domain's start: its stats, boundary, window stream, schedule, the plugins' hook. */
    void begin() {
        state.stats = new StageStats(state.globalStep);
        wallMark = System.nanoTime();
        if (results.boundaries() <= state.stage) {
            results.addBoundary(state.globalStep);
        }
        openStream();
        for (Plugin p : plugins) {
            if (told(p) || state.stage == 0) { // a task-free strategy: the stream's start only
                p.beforeDomain(context);
            }
        }
    }

    /** Whether a plugin is told of domain boundaries (all but a task-free run's strategy). */
    private boolean told(Plugin p) {
        return !taskFree || !strategy.contains(p);
    }

    /**
     * @return the learning rate of the next step: of the domain's schedule at its step in the
     *     domain, or in a task-free run of the one schedule over the stream at its global step
     */
    double lr() {
        return taskFree ? schedule.lr((int) state.globalStep) : schedule.lr(state.stepInStage);
    }

    /**
     * Opens the current domain's window stream (positioned at its start) and its schedule; a
     * resume then seeks the stream to where the checkpoint left it.
     */
    private void openStream() {
        state.stream = new WindowStream(in.split(Split.TRAIN).get(state.stage), in.seqLen,
                Seeds.derive(cfg.get(TrainConfig.SEED), "data", state.stage),
                cfg.get(TrainConfig.WINDOW_ORDER).equals("in-order"));
        schedule = taskFree ? Schedule.of(cfg.settings(), 0, (int) in.totalSteps(cfg))
                : Schedule.of(cfg.settings(), state.stage, in.stepsFor(state.stage, cfg));
    }

    /**
     * Ends the current domain ({@link ContinualTrainer#endDomain()}): every plugin's {@code
     * afterDomain} in list order, the stage's row and costs into results.json, a checkpoint; the
     * state moves on to the next domain.
     *
     * @throws IOException when writing results or the checkpoint fails
     */
    void end() throws IOException {
        for (Plugin p : plugins) {
            if (told(p)) {
                p.afterDomain(context);
            }
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

    /**
     * Writes a checkpoint of where the run stands now (model, optimizer, every plugin's state,
     * manifest), the stage's wall time folded in first.
     *
     * @param model the stage model exported with these very weights (linked, not written
     *     again), or null
     * @return the checkpoint's folder
     * @throws IOException when it cannot be written
     */
    Path checkpoint(Path model) throws IOException {
        foldWall();
        // After the last stage no step follows: its checkpoint goes without the optimizer.
        return checkpoints.save(state, in.lm, state.stage < in.names.size() ? adam : null,
                plugins, results, model);
    }

    /**
     * Restores the optimizer's moments and every plugin's state from a checkpoint (the model came
     * from its model.pt when the inputs were loaded) and seeks the window stream to where it was.
     *
     * @param ckpt the checkpoint folder
     * @param adamSteps the optimizer's step count there
     * @throws IOException when a file cannot be read
     */
    void restore(Path ckpt, long adamSteps) throws IOException {
        Checkpoints.loadTensors(ckpt, adam, adamSteps, plugins, context, in.lm.manager());
        if (state.streamOpen && state.stage < in.names.size()) {
            openStream();
            state.stream.seek(state.streamEpoch, state.streamIndex);
        }
    }
}
