package dev.retain.train;

import dev.retain.core.model.CausalLm;
import dev.retain.core.model.NamedParameter;
import dev.retain.core.text.Split;
import dev.retain.core.text.TokenFile;
import dev.retain.eval.EvalResult;
import dev.retain.eval.results.ResultsRecorder;
import dev.retain.eval.results.TaskScores;
import dev.retain.train.lifecycle.StageExport;
import dev.retain.train.plugin.Phase;
import dev.retain.train.plugin.TrainContext;
import dev.retain.train.plugin.TrainControl;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * What the plugins of a {@link ContinualTrainer} see of its run: a view over the values the
 * trainer was built from (its inputs, state, results, control flags), holding no state of its own.
 */
final class RunContext implements TrainContext {

    private final Run run;
    private final RunInputs in;
    private final TrainState state;
    private final ResultsRecorder results;
    private final TrainControl control;
    private final DivergenceGuard guard;
    private final StageExport export;

    /**
     * What a run is, beside its inputs: its folder, base files and batch shape.
     *
     * @param dir the run folder
     * @param baseModel the base model file (run.json's, also when resumed from a checkpoint)
     * @param tokenizer the tokenizer.json
     * @param batchSize windows per micro-batch
     * @param gradAccum micro-batches per step
     * @param seed the run's seed
     * @param progress whether evaluations show progress on stderr
     */
    record Run(Path dir, Path baseModel, Path tokenizer, int batchSize, int gradAccum, long seed,
            boolean progress) {}

    RunContext(Run run, RunInputs in, TrainState state, ResultsRecorder results,
            TrainControl control, DivergenceGuard guard, StageExport export) {
        this.run = run;
        this.in = in;
        this.state = state;
        this.results = results;
        this.control = control;
        this.guard = guard;
        this.export = export;
    }

    @Override
    public CausalLm model() {
        return in.lm;
    }

    @Override
    public List<NamedParameter> parameters() {
        return in.trained;
    }

    @Override
    public int seqLen() {
        return in.seqLen;
    }

    @Override
    public int batchSize() {
        return run.batchSize();
    }

    @Override
    public int gradAccum() {
        return run.gradAccum();
    }

    @Override
    public long seed() {
        return run.seed();
    }

    @Override
    public Path baseModel() {
        return run.baseModel();
    }

    @Override
    public Path tokenizerFile() {
        return run.tokenizer();
    }

    @Override
    public boolean exportsStage() {
        return export.exports(state.stage, in.names.size());
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
    public TokenFile tokens(Split split, int index) {
        return in.split(split).get(index);
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
    public void addTokenPasses(long tokens) {
        state.stats.tokenPasses += tokens;
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
    public ResultsRecorder results() {
        return results;
    }

    @Override
    public List<EvalResult> evaluate(Split split, long maxWindows) {
        return guard.evaluation(in.evaluate(split, maxWindows, run.progress()));
    }

    @Override
    public Path runDir() {
        return run.dir();
    }

    @Override
    public List<EvalResult> evaluateHeldOut(Split split, long maxWindows) {
        return guard.evaluation(in.evaluateHeldOut(split, maxWindows, run.progress()));
    }

    @Override
    public TaskScores evaluateTasks() {
        return in.evaluateTasks();
    }

    @Override
    public TokenFile generalTokens() {
        return in.general;
    }
}
