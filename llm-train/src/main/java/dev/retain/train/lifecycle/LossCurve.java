package dev.retain.train.lifecycle;

import dev.retain.eval.results.MetricsLog;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.StepResult;
import dev.retain.train.plugin.TrainContext;

/**
 * Records the loss and its parts in results.json at every domain's first step and every tenth
 * global step, and every step in full (learning rate, gradient norm, tokens/s) in the run's
 * metrics.jsonl.
 */
public final class LossCurve implements Plugin {

    private static final int EVERY = 10;

    @Override
    public String name() {
        return "loss-curve";
    }

    @Override
    public void afterStep(TrainContext ctx, StepResult r) {
        ctx.results().logStep(MetricsLog.step(ctx.globalStep(), ctx.stage(),
                ctx.domains().get(ctx.stage()), r.total(), r.newLoss(), r.replayLoss(),
                r.penalty(), r.lr(), r.gradNorm(), r.newTokens() + r.replayTokens(),
                r.seconds()));
        if (ctx.globalStep() % EVERY == 0 || ctx.stepInStage() == 1) {
            ctx.results().addLoss(ctx.globalStep(), r.total(), r.newLoss(), r.replayLoss(),
                    r.penalty());
        }
    }
}
