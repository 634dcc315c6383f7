package dev.retain.train;

import dev.retain.eval.EvalResult;
import dev.retain.eval.forgotten.TokenDetail;
import dev.retain.train.lm.Strategies;
import dev.retain.train.plugin.Plugin;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * Opens a {@link ContinualTrainer} with options: {@link #start} a new run or {@link #resume} one.
 * Got from {@link ContinualTrainer#builder()}; every option has a default.
 */
public final class TrainerBuilder {

    boolean progress = true;
    Function<Strategies.Parts, List<Plugin>> strategies = Strategies::plugins;
    List<EvalResult> baseRow;
    TokenDetail baseDetail;
    Path expectModel;
    boolean allowChangedData;

    TrainerBuilder() {}

    /**
     * @param show show progress on stderr (default: yes)
     * @return this builder
     */
    public TrainerBuilder optProgress(boolean show) {
        this.progress = show;
        return this;
    }

    /**
     * @param factory makes the strategy's plugins (default: {@link Strategies#plugins}, the
     *     run's {@code strategy}); they run before the lifecycle plugins
     * @return this builder
     */
    public TrainerBuilder optStrategies(Function<Strategies.Parts, List<Plugin>> factory) {
        this.strategies = factory;
        return this;
    }

    /**
     * @param row the base model's row, already computed with the run's protocol (an
     *     experiment evaluates the base once for all its variants); a new run then does not
     *     evaluate it again
     * @return this builder
     */
    public TrainerBuilder optBaseRow(List<EvalResult> row) {
        this.baseRow = row;
        return this;
    }

    /**
     * @param detail the token detail of the base row of {@link #optBaseRow} (its evaluation kept
     *     the run's {@code token-detail} windows), written as the run's row-0 detail
     * @return this builder
     */
    public TrainerBuilder optBaseDetail(TokenDetail detail) {
        this.baseDetail = detail;
        return this;
    }

    /**
     * @param model for {@link #resume}: the model the caller expects the run to use; another
     *     is refused
     * @return this builder
     */
    public TrainerBuilder optExpectModel(Path model) {
        this.expectModel = model;
        return this;
    }

    /**
     * @param allow for {@link #resume}: go on (with a warning, recorded in results.json) when
     *     the tokenizer or a domain's text changed since the run started, instead of refusing
     * @return this builder
     */
    public TrainerBuilder optAllowChangedData(boolean allow) {
        this.allowChangedData = allow;
        return this;
    }

    /**
     * @param setup what to run
     * @param runDir the run folder (it must not hold a run already)
     * @return the trainer, ready to {@link ContinualTrainer#run()}
     * @throws IOException when the folder cannot be written
     */
    public ContinualTrainer start(RunSetup setup, Path runDir) throws IOException {
        return RunLauncher.start(setup, runDir, this);
    }

    /**
     * @param runDir a run folder
     * @return the trainer, positioned where its newest verified checkpoint left off (at the
     *     start when it has none)
     * @throws IOException when reading fails
     */
    public ContinualTrainer resume(Path runDir) throws IOException {
        return RunLauncher.resume(runDir, this);
    }
}
