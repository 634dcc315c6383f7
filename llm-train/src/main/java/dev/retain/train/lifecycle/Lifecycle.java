package dev.retain.train.lifecycle;

import dev.retain.train.config.Settings;
import dev.retain.train.lm.GeneralReplayPlugin;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.stream.StreamConsolidation;
import dev.retain.train.stream.StreamKeys;
import dev.retain.train.stream.StreamPoints;

import ai.djl.ndarray.NDManager;

import java.util.ArrayList;
import java.util.List;

/**
 * The order of a run's plugins, which is the order of every hook: the drift map first (at a
 * domain's end its Fisher runs before the strategies' state, EWC's F and theta*, exists, so the two
 * are never in memory together: at GPT-2 small a parameter-sized peak less; it only reads the
 * parameters, which nothing has changed), then the strategy's plugins, general replay when the run
 * has a general source (with any strategy), in a task-free run the consolidation rule and the
 * stream's evaluation points, then the stage export, the stage evaluation, the
 * cadence and the loss curve. So at a domain's end EWC's Fisher is estimated before the stage
 * model is exported and evaluated. {@code HookOrderTest} pins it.
 */
public final class Lifecycle {

    private Lifecycle() {}

    /**
     * @param settings the run's settings (each plugin reads its own)
     * @param state the manager that state living as long as the run goes under
     * @param strategy the strategy's plugins, in order
     * @param general whether the run replays a general source ({@code --general})
     * @param export the run's stage export (the trainer asks it what it wrote)
     * @param evaluation the run's stage evaluation (the trainer has it evaluate the base model)
     * @return every plugin, in hook order
     */
    public static List<Plugin> plugins(Settings settings, NDManager state, List<Plugin> strategy,
            boolean general, StageExport export, StageEvaluation evaluation) {
        List<Plugin> out = new ArrayList<>();
        out.add(new DriftRecorder(state, settings));
        out.addAll(strategy);
        if (general) {
            out.add(new GeneralReplayPlugin(settings));
        }
        if (settings.get(StreamKeys.TASK_FREE)) { // after the strategy's afterStep (replay's offer)
            StreamConsolidation c = new StreamConsolidation(settings, strategy);
            out.add(c);
            out.add(new StreamPoints(settings, c));
        }
        out.addAll(List.of(export, evaluation, new DefaultFlow(settings),
                new LossCurve()));
        return out;
    }
}
