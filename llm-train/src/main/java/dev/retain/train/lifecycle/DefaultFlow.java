package dev.retain.train.lifecycle;

import dev.retain.train.config.Key;
import dev.retain.train.config.KeyGroup;
import dev.retain.train.config.Settings;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.StepResult;
import dev.retain.train.plugin.TrainContext;

/**
 * The run's cadence (like Hugging Face's {@code DefaultFlowCallback}): asks the loop to evaluate
 * the valid splits every {@code eval-every} steps (0 = never; {@code eval-windows} of each) and to
 * save a checkpoint every {@code save-every} steps, counted in global steps.
 */
public final class DefaultFlow implements Plugin {

    /** The cadence's settings. */
    public static final KeyGroup KEYS = new KeyGroup();
    /** Steps between evaluations of the valid splits; 0 = off. */
    public static final Key<Integer> EVAL_EVERY = KEYS.add(Key.integer("eval-every", 0, 0,
            "steps", "also evaluate every domain's valid split every N steps; 0 = off")
            .max(10_000_000));
    /** Windows per domain in those evaluations. */
    public static final Key<Integer> EVAL_WINDOWS = KEYS.add(Key.integer("eval-windows", 8, 1,
            "windows", "windows per domain in those evaluations").max(1_000_000_000));
    /** Steps between checkpoints. */
    public static final Key<Integer> SAVE_EVERY = KEYS.add(Key.integer("save-every", 100, 1,
            "steps", "checkpoint every N steps (and at every domain end)").max(10_000_000));

    private final int evalEvery;
    private final int saveEvery;

    /**
     * Creates the cadence.
     *
     * @param s the run's settings ({@link #KEYS})
     */
    public DefaultFlow(Settings s) {
        this.evalEvery = s.get(EVAL_EVERY);
        this.saveEvery = s.get(SAVE_EVERY);
    }

    @Override
    public String name() {
        return "flow";
    }

    @Override
    public void afterStep(TrainContext ctx, StepResult step) {
        long g = ctx.globalStep();
        if (evalEvery > 0 && g % evalEvery == 0) {
            ctx.control().requestEvaluate();
        }
        if (g % saveEvery == 0) {
            ctx.control().requestSave();
        }
    }
}
