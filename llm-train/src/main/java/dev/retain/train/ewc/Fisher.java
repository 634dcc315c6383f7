package dev.retain.train.ewc;

import dev.retain.core.model.NamedParameter;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The diagonal of the Fisher information, estimated as the mean of squared gradients over units.
 *
 * <p><b>Definition</b> (the field disagrees with itself, so here it is pinned): given U units
 * (a unit is one sequence, one sample, or one mini-batch) and for each unit u a scalar loss
 * L_u (for language models: the mean next-token NLL over the unit's predicted positions, with the
 * targets either the true next tokens — the <i>empirical</i> Fisher — or tokens drawn from the
 * model's own predictive distribution — the <i>true</i>, sampled Fisher),
 *
 * <pre>   F_i = (1/U) * sum_u ( dL_u / dtheta_i )^2 </pre>
 *
 * With one sequence per unit this is the per-sequence Fisher; with mini-batches of b sequences
 * ("batched") the squared gradient of a mean is about b times smaller than the mean of squares,
 * which is why the batched estimate needs a correspondingly larger EWC lambda.
 *
 * <p>One implementation for every model: language models and MNIST classifiers supply a {@link
 * UnitLoss}; the estimate runs on whatever device the parameters live on (the GPU when there is
 * one).
 */
public final class Fisher {

    private Fisher() {}

    /** The loss of one unit, built inside an active gradient collector. */
    @FunctionalInterface
    public interface UnitLoss {
        /**
         * Computes the scalar loss of a unit.
         *
         * @param unit 0-based unit index
         * @param scope manager for this unit's temporaries (closed after the unit)
         * @return a scalar whose gradient is squared
         */
        NDArray loss(int unit, NDManager scope);
    }

    /** A backward pass of a unit's loss that leaves the gradients on the parameters. */
    @FunctionalInterface
    public interface Backward {
        /**
         * @param gc the active collector
         * @param loss the unit's loss
         */
        void run(GradientCollector gc, NDArray loss);
    }

    /**
     * Estimates the diagonal Fisher, with the collector's own backward pass.
     *
     * @param params the parameters (gradients of all of them must be zero on entry, and are zero
     *     on return)
     * @param units how many units
     * @param loss the loss of each unit
     * @param owner manager that will own the returned arrays
     * @return parameter name to its Fisher diagonal (same shape as the parameter)
     */
    public static Map<String, NDArray> estimate(List<NamedParameter> params, int units,
            UnitLoss loss, NDManager owner) {
        return estimate(params, units, loss, GradientCollector::backward, owner);
    }

    /**
     * Estimates the diagonal Fisher: the mean over units of each parameter's squared gradient,
     * in float32 (the gradients are float32 whatever precision the passes ran in).
     *
     * @param params the parameters (gradients of all of them must be zero on entry, and are zero
     *     on return)
     * @param units how many units
     * @param loss the loss of each unit
     * @param backward runs a unit's backward pass (a model's own, e.g. {@code CausalLm::backward})
     * @param owner manager that will own the returned arrays
     * @return parameter name to its Fisher diagonal (same shape as the parameter)
     */
    public static Map<String, NDArray> estimate(List<NamedParameter> params, int units,
            UnitLoss loss, Backward backward, NDManager owner) {
        Map<String, NDArray> fisher = new LinkedHashMap<>();
        for (NamedParameter p : params) {
            fisher.put(p.name(), owner.zeros(p.array().getShape(), p.array().getDataType(),
                    p.array().getDevice()));
        }
        Engine engine = Engine.getEngine("PyTorch");
        for (int u = 0; u < units; u++) {
            try (NDManager scope = owner.newSubManager()) {
                try (GradientCollector gc = engine.newGradientCollector()) {
                    backward.run(gc, loss.loss(u, scope));
                }
                for (NamedParameter p : params) {
                    // The gradient wrapper and its square live on the parameter's manager: close
                    // both, or every unit leaks a model-sized array.
                    try (NDArray g = p.array().getGradient(); NDArray sq = g.square()) {
                        fisher.get(p.name()).addi(sq);
                    }
                    JniUtils.zeroGrad((PtNDArray) p.array());
                }
            }
        }
        for (NDArray f : fisher.values()) {
            f.divi(units);
        }
        return fisher;
    }
}
