package dev.retain.train;

import dev.retain.core.Engines;
import dev.retain.core.util.Seeds;
import dev.retain.train.optim.AdamW;
import dev.retain.train.optim.GradClip;
import dev.retain.train.plugin.Phase;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.StepResult;
import dev.retain.train.plugin.TrainContext;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;

import java.util.List;

/**
 * The arithmetic of one {@link ContinualTrainer} optimizer step: the step's dropout seed, its
 * micro-batches ({@link MicroBatch}: windows, forward, loss, backward), the divergence checks of
 * the loss and of the gradient norm ({@link DivergenceGuard}), the plugins' {@code afterBackward}
 * gradient terms (EWC), global-norm clipping and the AdamW update at the schedule's learning rate;
 * then the step counted in the {@link TrainState} and its tokens and time in the stage's stats.
 * It owns the micro-batches and the engine's seeding; the domain's beginning before a step and
 * the plugins' {@code afterStep} after it are the trainer's.
 */
final class OptimizerStep {

    private final TrainConfig cfg;
    private final RunInputs in;
    private final TrainState state;
    private final List<Plugin> plugins;
    private final TrainContext context;
    private final DivergenceGuard guard;
    private final AdamW adam;
    private final MicroBatch micro;
    private final Engine engine = Engines.pytorch();

    /**
     * @param cfg the run's settings
     * @param in the model and the data
     * @param state where the run stands (counted on by each step)
     * @param plugins every plugin, in hook order
     * @param context what the plugins see
     * @param guard stops a diverged run
     * @param adam the optimizer
     */
    OptimizerStep(TrainConfig cfg, RunInputs in, TrainState state, List<Plugin> plugins,
            TrainContext context, DivergenceGuard guard, AdamW adam) {
        this.cfg = cfg;
        this.in = in;
        this.state = state;
        this.plugins = plugins;
        this.context = context;
        this.guard = guard;
        this.adam = adam;
        this.micro = new MicroBatch(in.lm, plugins, context, in.seqLen,
                cfg.get(TrainConfig.BATCH_SIZE), cfg.get(TrainConfig.GRAD_ACCUM),
                cfg.get(TrainConfig.REPLAY_MODE).equals("add"));
    }

    /**
     * Takes the step on the domain's open window stream; its time counts in the stage's
     * training phase.
     *
     * @param lr the step's learning rate
     * @return what the step did
     */
    StepResult take(double lr) {
        long s0 = System.nanoTime();
        // Dropout (where a model has it) draws from libtorch's generator: seed it per step so that
        // a resumed run draws the same masks.
        engine.setRandomSeed((int) Seeds.derive(cfg.get(TrainConfig.SEED), "step",
                state.globalStep));
        StepLosses losses = new StepLosses(cfg.get(TrainConfig.BATCH_SIZE) * micro.count());
        double penalty = 0;
        double norm;
        try (NDManager scope = in.lm.manager().newSubManager()) {
            for (int m = 0; m < micro.count(); m++) {
                MicroBatch.Rows rows = micro.fill(m, state.stream, losses);
                losses.addRows(micro.forwardBackward(scope, losses, rows), rows.replayed());
                state.stats.newTokens += (long) rows.fresh() * in.seqLen;
                state.stats.replayTokens += (long) rows.replayed() * in.seqLen;
                state.stats.tokenPasses += 2L * losses.ids.length; // forward and backward
            }
            guard.loss(losses.loss());
            for (Plugin p : plugins) {
                penalty += p.afterBackward(context, scope);
            }
            norm = GradClip.norm(in.trained, scope, 1.0);
            guard.gradNorm(norm);
            adam.step(in.trained, lr, cfg.get(AdamW.WEIGHT_DECAY), cfg.get(AdamW.DECAY_ALL),
                    GradClip.scale(norm, cfg.get(AdamW.MAX_GRAD_NORM)));
            in.lm.parametersChanged(); // a bfloat16 copy takes the new master weights
        }
        state.stepped();
        double seconds = (System.nanoTime() - s0) / 1e9;
        StepResult result = losses.result(penalty + losses.terms(), in.seqLen, lr, norm, seconds);
        state.stats.add(Phase.TRAIN, seconds);
        return result;
    }
}
