package dev.retain.train.lm;

import dev.retain.core.text.TokenFile;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;

/**
 * The joint (multi-task) reference: while learning domain k (from 0), each micro-batch draws
 * {@code round(batch * k / (k + 1))} of its windows from the train splits of the domains before
 * it, each window from a domain chosen uniformly and at a uniform start, so that after domain k
 * the model has trained on domains 0..k mixed in equal shares, with the same steps per domain as
 * the other strategies. Not a continual strategy (it keeps all earlier data): the upper reference
 * that reports measure the others against. Its random draws come from the run's plugin random
 * state, which checkpoints keep, so a resumed run draws the same windows.
 */
public final class JointPlugin implements Plugin {

    @Override
    public String name() {
        return "joint";
    }

    @Override
    public int replayRows(TrainContext ctx, int micro) {
        int k = ctx.stage();
        int b = ctx.batchSize();
        // at least one new window per micro-batch (batch 1 stays naive)
        return Math.min(b - 1, (int) Math.round(b * (double) k / (k + 1)));
    }

    @Override
    public int replayWindows(TrainContext ctx, int rows, long[] dst, int offset) {
        for (int r = 0; r < rows; r++) {
            TokenFile t = ctx.trainTokens(ctx.rng().nextInt(ctx.stage()));
            GeneralReplayPlugin.copyWindow(t, ctx, dst, offset + r * ctx.seqLen());
        }
        return rows;
    }
}
