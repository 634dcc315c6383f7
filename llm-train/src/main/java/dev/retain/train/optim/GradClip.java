package dev.retain.train.optim;

import dev.retain.core.model.NamedParameter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDArrays;

import java.util.List;

/**
 * Global-norm gradient clipping (DJL's {@code optClipGrad} only clamps element-wise): the L2 norm
 * over all gradients together, and the factor that scales it down to {@code maxNorm}.
 */
public final class GradClip {

    private GradClip() {}

    /**
     * The global L2 norm of the accumulated gradients (one device-to-host read).
     *
     * @param params parameters whose gradients count
     * @param scope manager for temporaries
     * @param rescale factor the gradients will be multiplied by (e.g. 1/accumulation)
     * @return the norm of {@code rescale * grad}
     */
    public static double norm(List<NamedParameter> params, NDManager scope, double rescale) {
        NDList norms = new NDList(params.size());
        for (NamedParameter p : params) {
            // One fused reduction per gradient (no squared copy of it). The result is made on the
            // parameter's manager: move it to the scope, or each step leaks it.
            try (NDArray g = p.array().getGradient(); NDArray flat = g.flatten()) {
                NDArray n = flat.norm();
                n.attach(scope);
                norms.add(n);
            }
        }
        return NDArrays.stack(norms).norm().getFloat() * Math.abs(rescale);
    }

    /**
     * The factor that brings a norm down to {@code maxNorm} (1 when already below, or when
     * clipping is off).
     *
     * @param norm the global norm
     * @param maxNorm the limit; 0 disables clipping
     * @return the scale, in (0, 1]
     */
    public static double scale(double norm, double maxNorm) {
        if (maxNorm <= 0 || norm <= maxNorm || !Double.isFinite(norm)) {
            return 1.0;
        }
        return maxNorm / (norm + 1e-6);
    }
}
