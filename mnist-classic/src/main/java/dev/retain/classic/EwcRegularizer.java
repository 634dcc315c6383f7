package dev.retain.classic;

import dev.retain.core.model.NamedParameter;
import dev.retain.classic.data.Task;
import dev.retain.train.ewc.EwcPenalty;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * EWC for the classifiers, on the shared {@link EwcPenalty} (the language-model trainer's class)
 * and {@link dev.retain.train.ewc.Fisher} estimator.
 *
 * <ul>
 *   <li><b>EWC</b> (Kirkpatrick et al. 2017): one penalty per finished task, each with that
 *       task's Fisher and its own anchor {@code theta*_t}: {@code sum_t lambda/2 sum_i F_t,i
 *       (theta_i - theta*_t,i)^2};
 *   <li><b>online EWC</b> (Schwarz et al. 2018): one penalty whose Fisher is consolidated {@code
 *       F = gamma F + F_t} and whose anchor moves to the parameters after each task.
 * </ul>
 */
final class EwcRegularizer implements ClassicPlugin {

    private final ClassicContext ctx;
    private final boolean online;
    private final List<EwcPenalty> penalties = new ArrayList<>();

    EwcRegularizer(ClassicContext ctx, boolean online) {
        this.ctx = ctx;
        this.online = online;
    }

    /** @return the penalties (one per task for EWC, one for online EWC) */
    List<EwcPenalty> penalties() {
        return Collections.unmodifiableList(penalties);
    }

    @Override
    public double afterBackward(List<NamedParameter> params, NDManager scope) {
        double v = 0;
        for (EwcPenalty p : penalties) {
            v += p.addGradients(params, scope);
        }
        return v;
    }

    /**
     * The penalty's value without touching gradients.
     *
     * @param params the parameters
     * @param scope temporaries
     * @return the sum of every penalty's value
     */
    double value(List<NamedParameter> params, NDManager scope) {
        double v = 0;
        for (EwcPenalty p : penalties) {
            v += p.value(params, scope);
        }
        return v;
    }

    @Override
    public void afterTask(Task task) {
        long t0 = System.nanoTime();
        List<NamedParameter> params = ctx.model.trainable();
        try (NDManager tmp = ctx.manager.newSubManager()) {
            Map<String, NDArray> f = ClassicFisher.estimate(ctx, task, params, tmp);
            if (online && !penalties.isEmpty()) {
                penalties.get(0).consolidate(params, f);
            } else {
                EwcPenalty p = new EwcPenalty(ctx.manager, ctx.config.ewcLambda(),
                        online ? ctx.config.ewcGamma() : 1.0);
                p.consolidate(params, f);
                penalties.add(p);
            }
        }
        ctx.fisherSeconds += (System.nanoTime() - t0) / 1e9;
    }

    @Override
    public void close() {
        penalties.forEach(EwcPenalty::close);
    }
}
