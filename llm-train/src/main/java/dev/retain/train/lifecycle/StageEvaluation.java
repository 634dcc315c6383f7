package dev.retain.train.lifecycle;

import dev.retain.core.text.Split;
import dev.retain.train.plugin.Phase;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;

/**
 * At each domain's end, after the export: scores every domain's test split (the run's {@code
 * test-windows} of each, 0 = all) and adds the row to the results matrix, and the held-out
 * domains' ({@code --eval-domains}) to their own rows. Its time counts as evaluation.
 */
public final class StageEvaluation implements Plugin {

    @Override
    public String name() {
        return "stage-eval";
    }

    @Override
    public void afterDomain(TrainContext ctx) {
        long t0 = System.nanoTime();
        var row = ctx.evaluate(Split.TEST, ctx.config().testWindows());
        var held = ctx.evaluateHeldOut(Split.TEST, ctx.config().testWindows());
        ctx.addSeconds(Phase.EVAL, (System.nanoTime() - t0) / 1e9);
        ctx.results().addRow(row);
        ctx.results().addHeldOut(held);
    }
}
