package dev.retain.train.lifecycle;

import dev.retain.train.StepResult;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;

/**
 * The run's cadence (like Hugging Face's {@code DefaultFlowCallback}): asks the loop to evaluate
 * the valid splits every {@code eval-every} steps (0 = never) and to save a checkpoint every
 * {@code save-every} steps, counted in global steps.
 */
public final class DefaultFlow implements Plugin {

    @Override
    public String name() {
        return "flow";
    }

    @Override
    public void afterStep(TrainContext ctx, StepResult step) {
        long g = ctx.globalStep();
        if (ctx.config().evalEvery() > 0 && g % ctx.config().evalEvery() == 0) {
            ctx.control().requestEvaluate();
        }
        if (g % ctx.config().saveEvery() == 0) {
            ctx.control().requestSave();
        }
    }
}
