package dev.retain.eval.metrics;

import java.util.List;

/**
 * What a run cost: time, tokens, memory, and the strategy's own extra (Fisher time, replay
 * tokens), summed over its finished stages.
 *
 * @param wallSeconds total wall time of the stages: their measured elapsed times summed, so also
 *     export and checkpoints besides training, Fisher and evaluation (results files from before
 *     the trainer measured it hold the sum of those three phases)
 * @param trainSeconds time spent in training steps
 * @param evalSeconds time spent evaluating (test splits, continual-evaluation curves, the drift
 *     map's Fisher)
 * @param fisherSeconds extra: time spent estimating the Fisher (0 when the strategy has none)
 * @param tokensSeen tokens trained on, new plus replayed
 * @param replayTokens extra: replayed tokens among {@code tokensSeen}
 * @param tokensPerSecond {@code tokensSeen / trainSeconds}
 * @param peakRssBytes peak resident memory of the process, {@code -1} when not measured; during
 *     the run where the trainer could reset the process's peak counter as it started, else since
 *     the process started (see {@code ResultsRecorder#peakRssScope})
 * @param tokenPasses the training compute, summed over the stages ({@link Stage#tokenPasses}; 0
 *     when the results do not record it)
 */
public record Cost(double wallSeconds, double trainSeconds, double evalSeconds,
        double fisherSeconds, long tokensSeen, long replayTokens, double tokensPerSecond,
        long peakRssBytes, long tokenPasses) {

    /**
     * The timing of one stage, as the trainer records it ({@code null} fields there are 0 here).
     *
     * @param stage the stage (0-based)
     * @param task the task it trained on
     * @param steps optimiser steps
     * @param tokensSeen tokens trained on (new plus replayed)
     * @param newTokens tokens of the stage's own task
     * @param replayTokens replayed tokens
     * @param trainSeconds training time
     * @param fisherSeconds Fisher estimation time
     * @param evalSeconds evaluation time
     * @param driftSeconds the drift map's Fisher time (0 in files from before it was separate:
     *     it was part of evalSeconds)
     * @param wallSeconds the stage's wall time, measured (at least the sum of the phases)
     * @param tokenPasses the training compute, counted exactly: tokens through a forward pass
     *     plus tokens through a backward pass (the steps, a distillation teacher's forward, the
     *     strategy's Fisher); evaluations and the drift map, the same for every strategy, are
     *     not counted (0 when not recorded)
     */
    public record Stage(int stage, String task, long steps, long tokensSeen, long newTokens,
            long replayTokens, double trainSeconds, double fisherSeconds, double evalSeconds,
            double driftSeconds, double wallSeconds, long tokenPasses) {}

    /**
     * Sums the stages.
     *
     * @param stages the finished stages
     * @param peakRssBytes the run's peak resident memory, -1 when unknown
     * @return the totals
     */
    public static Cost of(List<Stage> stages, long peakRssBytes) {
        double wall = 0;
        double train = 0;
        double eval = 0;
        double fisher = 0;
        long seen = 0;
        long replay = 0;
        long passes = 0;
        for (Stage s : stages) {
            wall += s.wallSeconds();
            train += s.trainSeconds();
            eval += s.evalSeconds();
            fisher += s.fisherSeconds();
            seen += s.tokensSeen();
            replay += s.replayTokens();
            passes += s.tokenPasses();
        }
        return new Cost(wall, train, eval, fisher, seen, replay,
                train > 0 ? seen / train : Double.NaN, peakRssBytes, passes);
    }
}
