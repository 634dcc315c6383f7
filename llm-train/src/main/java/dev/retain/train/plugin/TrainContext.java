package dev.retain.train.plugin;

import dev.retain.core.model.CausalLm;
import dev.retain.core.model.NamedParameter;
import dev.retain.core.text.Split;
import dev.retain.core.text.TokenFile;
import dev.retain.eval.EvalResult;
import dev.retain.eval.results.ResultsRecorder;
import dev.retain.eval.results.TaskScores;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * What plugins may see of a run: the model and its parameters, the run's setup (base model,
 * tokenizer, run folder), the batch's shape, the domains, where the loop stands, the run's random
 * source, the results being recorded, the loop's control flags, and the stage's phase timers a
 * plugin reports its cost into. A plugin's own settings it gets when it is built, not from here.
 */
public interface TrainContext {

    /** @return the model being trained */
    CausalLm model();

    /** @return its trainable parameters (tied tensors once) */
    List<NamedParameter> parameters();

    /** @return tokens per training window */
    int seqLen();

    /** @return windows of new data per micro-batch ({@code batch-size}) */
    int batchSize();

    /** @return micro-batches per optimizer step ({@code grad-accum}) */
    int gradAccum();

    /** @return the run's seed, for seeds a plugin derives per purpose and stage */
    long seed();

    /**
     * @return the run's base model file (as run.json names it; a resumed run's model may come
     *     from a checkpoint, this does not)
     */
    Path baseModel();

    /** @return the run's tokenizer.json */
    Path tokenizerFile();

    /**
     * @return whether this domain's outputs are kept beside the run at its end ({@code
     *     export-stages}): the stage model and what strategies keep with it (EWC's Fisher file)
     */
    boolean exportsStage();

    /** @return the index of the domain being learned */
    int stage();

    /** @return domain names in training order */
    List<String> domains();

    /**
     * A domain's train split: {@code tokens(Split.TRAIN, index)}.
     *
     * @param index the domain's index
     * @return its tokens
     */
    default TokenFile trainTokens(int index) {
        return tokens(Split.TRAIN, index);
    }

    /**
     * A split of a domain.
     *
     * @param split the split
     * @param index the domain's index
     * @return its tokens
     */
    TokenFile tokens(Split split, int index);

    /** @return steps done in the current domain */
    int stepInStage();

    /** @return steps done in the whole run */
    long globalStep();

    /** @return the run folder (plugins may write files that outlive checkpoints there) */
    Path runDir();

    /** @return the run's random source for plugin choices (saved in checkpoints) */
    Random rng();

    /**
     * Adds seconds to one of the current stage's timed phases (a strategy's extra cost).
     *
     * @param phase the phase
     * @param seconds the time
     */
    void addSeconds(Phase phase, double seconds);

    /**
     * Counts training compute beyond the steps' own forward and backward passes (which the loop
     * counts): a distillation teacher's forward, a strategy's Fisher.
     *
     * @param tokens tokens through a forward pass plus tokens through a backward pass
     */
    void addTokenPasses(long tokens);

    /** @return the loop's control flags: ask it to stop, save or evaluate */
    TrainControl control();

    /** @return the results being recorded (results.json) */
    ResultsRecorder results();

    /**
     * Scores every domain's split with the evaluation protocol at the run's window length.
     *
     * @param split TEST or VALID
     * @param maxWindows windows per domain, 0 for all
     * @return one result per domain, in training order
     */
    List<EvalResult> evaluate(Split split, long maxWindows);

    /**
     * Scores the held-out domains ({@code --eval-domains}: never trained on) as they are now.
     *
     * @param split TEST or VALID
     * @param maxWindows windows per domain, 0 for all
     * @return one result per held-out domain; empty when the run has none
     */
    default List<EvalResult> evaluateHeldOut(Split split, long maxWindows) {
        return List.of();
    }

    /**
     * Scores the task probes ({@code --eval-tasks}: lm-evaluation-harness's definitions) on the
     * model as it is now.
     *
     * @return one row per task, or null when the run has none
     */
    default TaskScores evaluateTasks() {
        return null;
    }

    /** @return the train split of the general-data replay source ({@code --general}), or null */
    default TokenFile generalTokens() {
        return null;
    }
}
