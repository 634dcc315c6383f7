package dev.retain.train.ewc;

import dev.retain.core.model.NamedParameter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Elastic weight consolidation (Kirkpatrick et al. 2017): the quadratic penalty
 *
 * <pre>   P(theta) = lambda/2 * sum_i F_i (theta_i - theta*_i)^2 </pre>
 *
 * over all trained parameters, with {@code theta*} taken <i>after</i> each task (the article this
 * project grew from took it before training, and from a stale loop variable) and the Fisher
 * consolidated the online-EWC way, {@code F = gamma * F_old + F_new} (gamma = 1 sums the tasks'
 * Fishers; the article averaged them, which shrinks old tasks' weight with every new task).
 *
 * <p>The penalty's gradient {@code lambda * F * (theta - theta*)} is added straight into the
 * parameters' gradients after the data loss's backward pass, which equals putting P into the loss
 * and differentiating, without recording 3 autograd ops per tensor per step. Shared by the
 * language-model trainer and the MNIST classifiers.
 */
public final class EwcPenalty implements AutoCloseable {

    private final NDManager manager;
    private final double lambda;
    private final double gamma;
    private final Map<String, NDArray> fisher = new LinkedHashMap<>();
    private final Map<String, NDArray> anchor = new LinkedHashMap<>();

    /**
     * Creates an empty penalty (no task consolidated yet, so it is zero).
     *
     * @param parent manager the Fisher and anchors live under
     * @param lambda strength
     * @param gamma online decay of earlier Fishers
     */
    public EwcPenalty(NDManager parent, double lambda, double gamma) {
        this.manager = parent.newSubManager();
        this.lambda = lambda;
        this.gamma = gamma;
    }

    /** @return whether any task has been consolidated */
    public boolean active() {
        return !anchor.isEmpty();
    }

    /**
     * Consolidates a finished task: {@code F = gamma * F + F_new} and {@code theta* = theta}.
     *
     * @param params the parameters right after the task
     * @param newFisher the task's Fisher diagonal (consumed: attached to this penalty)
     */
    public void consolidate(List<NamedParameter> params, Map<String, NDArray> newFisher) {
        for (NamedParameter p : params) {
            NDArray fNew = newFisher.get(p.name());
            fNew.attach(manager);
            NDArray old = fisher.get(p.name());
            if (old == null) {
                fisher.put(p.name(), fNew);
            } else {
                old.muli(gamma).addi(fNew);
                fNew.close();
            }
            NDArray a = p.array().duplicate();
            a.attach(manager);
            NDArray prev = anchor.put(p.name(), a);
            if (prev != null) {
                prev.close();
            }
        }
    }

    /**
     * Adds the penalty's gradient {@code lambda * F * (theta - theta*)} to each parameter's
     * gradient and returns the penalty's value.
     *
     * @param params the parameters (with gradients)
     * @param scope manager for temporaries
     * @return {@code lambda/2 * sum F (theta - theta*)^2}, or 0 when nothing is consolidated
     */
    public double addGradients(List<NamedParameter> params, NDManager scope) {
        if (!active()) {
            return 0;
        }
        NDList parts = new NDList(params.size());
        for (NamedParameter p : params) {
            // Two temporaries per parameter: diff = theta - theta*, w = F * diff. The value's
            // term sum(w * diff) is one dot product; w is then scaled in place to lambda * w, the
            // penalty's gradient, and added to the parameter's gradient. Both are freed before
            // the next parameter (kept to the step's end they were two copies of the model).
            try (NDManager one = scope.newSubManager()) {
                NDArray diff = p.array().sub(anchor.get(p.name()));
                diff.attach(one);
                NDArray weighted = fisher.get(p.name()).mul(diff);
                weighted.attach(one);
                NDArray part = weighted.flatten().dot(diff.flatten());
                part.attach(scope);
                parts.add(part);
                try (NDArray g = p.array().getGradient()) {
                    g.addi(weighted.muli(lambda));
                }
            }
        }
        return lambda / 2 * ai.djl.ndarray.NDArrays.stack(parts).sum().getFloat();
    }

    /**
     * The penalty's value without touching gradients.
     *
     * @param params the parameters
     * @param scope manager for temporaries
     * @return {@code lambda/2 * sum F (theta - theta*)^2}
     */
    public double value(List<NamedParameter> params, NDManager scope) {
        if (!active()) {
            return 0;
        }
        double sum = 0;
        for (NamedParameter p : params) {
            sum += weightedSquaredDistance(p.array(), anchor.get(p.name()), fisher.get(p.name()),
                    scope).getFloat();
        }
        return lambda / 2 * sum;
    }

    /**
     * The Fisher-weighted squared distance of one tensor from an anchor, {@code sum F (theta -
     * anchor)^2}: a term of the penalty, and of the trainer's drift map.
     *
     * @param theta the tensor
     * @param anchor where it is measured from
     * @param f the Fisher diagonal, same shape; null for F = 1 (the plain squared distance)
     * @param scope manager the temporaries and the result live on
     * @return the scalar
     */
    public static NDArray weightedSquaredDistance(NDArray theta, NDArray anchor, NDArray f,
            NDManager scope) {
        NDArray d = theta.sub(anchor);
        d.attach(scope);
        NDArray sq = d.square();
        sq.attach(scope);
        NDArray w = f == null ? sq : f.mul(sq);
        w.attach(scope);
        NDArray v = w.sum();
        v.attach(scope);
        return v;
    }

    /** @return parameter name to consolidated Fisher diagonal (owned here) */
    public Map<String, NDArray> fisher() {
        return fisher;
    }

    /** @return parameter name to anchor theta* (owned here) */
    public Map<String, NDArray> anchor() {
        return anchor;
    }

    /**
     * The state as named arrays ({@link FisherFile#arrays}) for a checkpoint or a Fisher file.
     *
     * @return the arrays (owned here: do not close)
     */
    public NDList state() {
        return FisherFile.arrays(fisher, anchor);
    }

    /**
     * Restores the state written by {@link #state()} (or any Fisher file), keeping copies.
     *
     * @param arrays the named arrays
     */
    public void restore(NDList arrays) {
        fisher.values().forEach(NDArray::close);
        anchor.values().forEach(NDArray::close);
        fisher.clear();
        anchor.clear();
        FisherFile.split(arrays, (p, a) -> fisher.put(p, own(a)), (p, a) -> anchor.put(p, own(a)));
    }

    /**
     * Writes the state into a checkpoint file, when anything is consolidated.
     *
     * @param file the file
     * @throws IOException when writing fails
     */
    public void save(Path file) throws IOException {
        if (active()) {
            FisherFile.write(file, state());
        }
    }

    /**
     * Restores the state from a file written by {@link #save}, when the file exists.
     *
     * @param file the file
     * @throws IOException when reading fails
     */
    public void load(Path file) throws IOException {
        if (Files.exists(file)) {
            try (NDManager tmp = manager.newSubManager();
                    InputStream in = Files.newInputStream(file)) {
                restore(NDList.decode(tmp, in));
            }
        }
    }

    private NDArray own(NDArray a) {
        NDArray mine = a.duplicate();
        mine.attach(manager);
        return mine;
    }

    @Override
    public void close() {
        manager.close();
    }
}
