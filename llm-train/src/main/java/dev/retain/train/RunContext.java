package dev.retain.train;

import dev.retain.core.model.CausalLm;
import dev.retain.core.model.NamedParameter;
import dev.retain.core.text.Split;
import dev.retain.core.text.TokenFile;
import dev.retain.eval.EvalResult;
import dev.retain.eval.results.ResultsRecorder;
import dev.retain.train.config.TrainConfig;
import dev.retain.train.plugin.Phase;
import dev.retain.train.plugin.TrainContext;
import dev.retain.train.plugin.TrainControl;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/** What the plugins of a {@link ContinualTrainer} see of its run: a view, holding no state. */
final class RunContext implements TrainContext {

    private final ContinualTrainer t;

    RunContext(ContinualTrainer t) {
        this.t = t;
    }


    @Override
    public CausalLm model() {
        return t.in.lm;
    }

    @Override
    public List<NamedParameter> parameters() {
        return t.in.trained;
    }

    @Override
    public TrainConfig config() {
        return t.cfg;
    }

    @Override
    public int seqLen() {
        return t.in.seqLen;
    }

    @Override
    public int stage() {
        return t.state.stage;
    }

    @Override
    public List<String> domains() {
        return t.in.names;
    }

    @Override
    public TokenFile tokens(Split split, int index) {
        return t.in.split(split).get(index);
    }

    @Override
    public int stepInStage() {
        return t.state.stepInStage;
    }

    @Override
    public long globalStep() {
        return t.state.globalStep;
    }

    @Override
    public int microBatch() {
        return t.micro;
    }

    @Override
    public Random rng() {
        return t.state.rng;
    }

    @Override
    public void addTokenPasses(long tokens) {
        t.state.stats.tokenPasses += tokens;
    }

    @Override
    public void addSeconds(Phase phase, double seconds) {
        t.state.stats.add(phase, seconds);
    }

    @Override
    public TrainControl control() {
        return t.control;
    }

    @Override
    public ResultsRecorder results() {
        return t.results;
    }

    @Override
    public List<EvalResult> evaluate(Split split, long maxWindows) {
        return t.guard.evaluation(t.in.evaluate(split, maxWindows, t.progress));
    }

    @Override
    public Path runDir() {
        return t.runDir;
    }

    @Override
    public List<EvalResult> evaluateHeldOut(Split split, long maxWindows) {
        return t.guard.evaluation(t.in.evaluateHeldOut(split, maxWindows, t.progress));
    }

    @Override
    public TokenFile generalTokens() {
        return t.in.general;
    }
}
