package dev.retain.train.lifecycle;

import dev.retain.train.StepResult;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;

/**
 * Records the loss and its parts in results.json at every domain's first step and every tenth
 * global step.
 */
public final class LossCurve implements Plugin {

    private static final int EVERY = 10;

    @Override
    public String name() {
        return "loss-curve";
    }

    @Override
    public void afterStep(TrainContext ctx, StepResult r) {
        if (ctx.globalStep() % EVERY == 0 || ctx.stepInStage() == 1) {
            ctx.results().addLoss(ctx.globalStep(), r.total(), r.newLoss(), r.replayLoss(),
                    r.penalty());
        }
    }
}
