package dev.retain.train.lifecycle;

import dev.retain.core.text.Split;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyGroup;
import dev.retain.train.config.Settings;
import dev.retain.train.plugin.Phase;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;

/**
 * At each domain's end, after the export: scores every domain's test split (the run's {@code
 * test-windows} of each, 0 = all) and adds the row to the results matrix, the held-out
 * domains' ({@code --eval-domains}) to their own rows and the task probes' ({@code --eval-tasks},
 * {@link TaskProbes}) to theirs. Its time counts as evaluation.
 */
public final class StageEvaluation implements Plugin {

    /** The stage evaluation's setting. */
    public static final KeyGroup KEYS = new KeyGroup();
    /** Windows per domain; 0 = the whole test split. */
    public static final Key<Integer> TEST_WINDOWS = KEYS.add(Key.integer("test-windows", 0, 0,
            "windows", "windows per domain in the evaluation after each stage; 0 = the whole test"
                    + " split (the exact protocol)").max(1_000_000_000));

    private final int windows;

    /**
     * Creates the stage evaluation.
     *
     * @param s the run's settings ({@link #TEST_WINDOWS})
     */
    public StageEvaluation(Settings s) {
        this.windows = s.get(TEST_WINDOWS);
    }

    @Override
    public String name() {
        return "stage-eval";
    }

    @Override
    public void afterDomain(TrainContext ctx) {
        long t0 = System.nanoTime();
        var row = ctx.evaluate(Split.TEST, windows);
        var held = ctx.evaluateHeldOut(Split.TEST, windows);
        var tasks = ctx.evaluateTasks();
        ctx.addSeconds(Phase.EVAL, (System.nanoTime() - t0) / 1e9);
        ctx.results().addRow(row);
        ctx.results().addHeldOut(held);
        ctx.results().addTaskRow(tasks);
    }
}
