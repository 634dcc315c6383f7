package dev.retain.train.lm;

import dev.retain.core.text.TokenFile;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyGroup;
import dev.retain.train.config.Settings;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;

/**
 * General-data replay ({@code --general DIR}): from the first domain on, {@code general-ratio} of
 * each batch's windows come from a source outside the sequence (the base model's own kind of
 * text), each at a uniform start of its train split, so the model keeps seeing the general
 * distribution while it adapts. A share that is no whole number of windows is met exactly on
 * average: step g gets {@code floor((g+1) b r) - floor(g b r)} windows. Its draws come from the
 * run's plugin random state, which checkpoints keep; it never draws from the sequence's domains.
 */
public final class GeneralReplayPlugin implements Plugin {

    /** General replay's setting. */
    public static final KeyGroup KEYS = new KeyGroup();
    /** The share of each batch replayed from the general source. */
    public static final Key<Double> RATIO = KEYS.add(Key.real("general-ratio", 0.05, 0, true,
            "with --general: the share of each batch's windows replayed from the general-data"
                    + " source, from the first domain on (a share that is no whole number of"
                    + " windows is met on average over the steps)").max(1));

    private final double ratio;

    /**
     * Creates the plugin.
     *
     * @param s the run's settings ({@link #RATIO})
     */
    public GeneralReplayPlugin(Settings s) {
        this.ratio = s.get(RATIO);
    }

    @Override
    public String name() {
        return "general";
    }

    @Override
    public int replayRows(TrainContext ctx, int micro) {
        double perStep = ctx.batchSize() * ratio;
        long g = ctx.globalStep();
        int rows = (int) (Math.floor((g + 1) * perStep) - Math.floor(g * perStep));
        return Math.min(rows, ctx.batchSize() - 1); // a new window in every batch
    }

    @Override
    public int replayWindows(TrainContext ctx, int rows, long[] dst, int offset) {
        for (int r = 0; r < rows; r++) {
            copyWindow(ctx.generalTokens(), ctx, dst, offset + r * ctx.seqLen());
        }
        return rows;
    }

    /**
     * Copies one window of a token file from a uniform start, drawn from the run's plugin random
     * state (joint and general replay draw alike).
     *
     * @param t the tokens
     * @param ctx the run (its random state and window length)
     * @param dst the batch's token buffer
     * @param at where in dst the window goes
     */
    static void copyWindow(TokenFile t, TrainContext ctx, long[] dst, int at) {
        int seqLen = ctx.seqLen();
        t.copy((long) (ctx.rng().nextDouble() * (t.size() - seqLen + 1)), dst, at, seqLen);
    }
}
