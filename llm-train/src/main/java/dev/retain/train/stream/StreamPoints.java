package dev.retain.train.stream;

import dev.retain.core.text.Split;
import dev.retain.eval.EvalResult;
import dev.retain.train.config.Settings;
import dev.retain.train.lifecycle.StageEvaluation;
import dev.retain.train.plugin.Phase;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.StepResult;
import dev.retain.train.plugin.TrainContext;

import java.util.List;

/**
 * The evaluation points of a task-free run ({@link StreamKeys#EVAL_EVERY_TOKENS}): after the step
 * in which the stream's new tokens pass a multiple of N, every source's test split is scored
 * ({@code test-windows} windows each, as the stage evaluation) and the row goes into results.json's
 * {@code stream.points}: the stream's score matrix, one row per point, one column per source.
 * Stateless: the token count is {@link StreamConsolidation}'s, which checkpoints hold.
 */
public final class StreamPoints implements Plugin {

    private final long every;
    private final int windows;
    private final StreamConsolidation stream;

    /**
     * @param s the run's settings
     * @param stream where the token count is kept
     */
    public StreamPoints(Settings s, StreamConsolidation stream) {
        this.every = s.get(StreamKeys.EVAL_EVERY_TOKENS);
        this.windows = s.get(StageEvaluation.TEST_WINDOWS);
        this.stream = stream;
    }

    @Override
    public String name() {
        return "stream-points";
    }

    @Override
    public void afterStep(TrainContext ctx, StepResult r) {
        long t = stream.tokens();
        if (every == 0 || t / every == (t - r.newTokens()) / every) {
            return;
        }
        long t0 = System.nanoTime();
        List<EvalResult> row = ctx.evaluate(Split.TEST, windows);
        ctx.results().addStreamPoint(ctx.globalStep(), t, ctx.stage(), row);
        ctx.addSeconds(Phase.EVAL, (System.nanoTime() - t0) / 1e9);
    }
}
