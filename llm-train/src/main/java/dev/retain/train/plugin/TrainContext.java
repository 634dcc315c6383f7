package dev.retain.train.plugin;

import dev.retain.core.model.CausalLm;
import dev.retain.core.model.NamedParameter;
import dev.retain.core.text.TokenFile;
import dev.retain.train.config.TrainConfig;

import java.util.List;
import java.util.Random;

/**
 * What plugins may see of a run: the model and its parameters, the settings, the domains, where
 * the loop stands, the run's random source, and counters a plugin reports its cost into.
 */
public interface TrainContext {

    /** @return the model being trained */
    CausalLm model();

    /** @return its trainable parameters (tied tensors once) */
    List<NamedParameter> parameters();

    /** @return the run's settings */
    TrainConfig config();

    /** @return tokens per training window */
    int seqLen();

    /** @return the index of the domain being learned */
    int stage();

    /** @return domain names in training order */
    List<String> domains();

    /**
     * A domain's train split.
     *
     * @param index the domain's index
     * @return its tokens
     */
    TokenFile trainTokens(int index);

    /** @return steps done in the current domain */
    int stepInStage();

    /** @return steps done in the whole run */
    long globalStep();

    /** @return the run folder (plugins may write files that outlive checkpoints there) */
    java.nio.file.Path runDir();

    /** @return the run's random source for plugin choices (saved in checkpoints) */
    Random rng();

    /**
     * Adds seconds to the current stage's Fisher time (a strategy's extra cost).
     *
     * @param seconds the time
     */
    void addFisherSeconds(double seconds);
}
