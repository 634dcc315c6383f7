package dev.retain.classic;

import dev.retain.core.model.NamedParameter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Progressive neural networks (Rusu et al. 2016) for task-incremental learning: one column (an
 * MLP with the given hidden layers and its own head) per task. Column {@code k}'s hidden layer
 * {@code l > 0} receives, besides its own layer {@code l-1}, lateral input from the hidden
 * activations of layer {@code l-1} of every earlier column (one bias-free {@link Linear} adapter
 * per earlier column), and its head likewise from the earlier columns' last hidden layer:
 *
 * <pre>
 *   h[k][0] = relu(W[k][0] x)
 *   h[k][l] = relu(W[k][l] h[k][l-1] + sum_{j&lt;k} U[k][l][j] h[j][l-1])
 *   y[k]    = V[k] h[k][last] + sum_{j&lt;k} U[k][out][j] h[j][last]
 * </pre>
 *
 * <p>When task {@code t} starts, every parameter of columns {@code 0..t-1} is frozen (DJL's
 * {@link Parameter#freeze}: no gradient is even computed for them) and only column {@code t} and
 * its adapters train, so the function that answers task {@code j < t} (columns {@code 0..j}) can
 * not change: its task cannot be forgotten. The article this project grew from fed the earlier
 * columns' <i>outputs</i> through adapters that were never registered (never trained nor saved)
 * and did not freeze the earlier columns; all three are fixed here. Rusu et al.'s adapters also
 * have a learned scale and a non-linear projection; these are plain linear maps.
 *
 * <p>All columns are built up front (column {@code j} of a task not yet trained answers with its
 * initial weights, like an untrained head), so the parameter count is fixed.
 */
public final class ProgressiveNet implements Classifier {

    private final NDManager manager;
    private final ParameterStore store;
    private final int layers;
    private final int width;
    private final int total;
    /** layersOf[k][l]: column k's own layer l (the head is index {@code layers}). */
    private final Linear[][] own;
    /** lateral[k][l][j]: adapter from column j's layer l-1 into column k's layer l (l >= 1). */
    private final Linear[][][] lateral;
    private final List<List<NamedParameter>> columnParams = new ArrayList<>();
    private final List<Parameter> djlParams = new ArrayList<>();
    private final List<List<Parameter>> columnDjl = new ArrayList<>();
    private final List<NamedParameter> all = new ArrayList<>();
    private final String name;
    private int current = -1;

    /**
     * Builds every column.
     *
     * @param parent manager the parameters live under
     * @param inputs input size
     * @param hidden hidden widths of each column
     * @param columns how many columns (tasks)
     * @param width output units of each column's head
     * @param seed seed of the initial weights
     */
    public ProgressiveNet(NDManager parent, int inputs, int[] hidden, int columns, int width,
            long seed) {
        this.manager = parent.newSubManager();
        this.store = new ParameterStore(manager, false);
        this.layers = hidden.length;
        this.width = width;
        this.total = columns * width;
        this.own = new Linear[columns][layers + 1];
        this.lateral = new Linear[columns][layers + 1][];
        Random rng = new Random(seed);
        for (int k = 0; k < columns; k++) {
            List<NamedParameter> named = new ArrayList<>();
            List<Parameter> djl = new ArrayList<>();
            for (int l = 0; l <= layers; l++) {
                int in = l == 0 ? inputs : hidden[l - 1];
                int out = l == layers ? width : hidden[l];
                String lname = "col" + k + "." + (l == layers ? "out" : "fc" + (l + 1));
                own[k][l] = linear(out, true, in, lname, rng, named, djl);
                lateral[k][l] = new Linear[l == 0 ? 0 : k];
                for (int j = 0; l > 0 && j < k; j++) {
                    lateral[k][l][j] = linear(out, false, hidden[l - 1],
                            lname + ".from" + j, rng, named, djl);
                }
            }
            columnParams.add(Collections.unmodifiableList(named));
            columnDjl.add(djl);
            all.addAll(named);
            djlParams.addAll(djl);
        }
        for (Parameter p : djlParams) {
            p.freeze(true);
        }
        StringBuilder sb = new StringBuilder("pnn-" + columns + "x");
        for (int i = 0; i < hidden.length; i++) {
            sb.append(i == 0 ? "" : "-").append(hidden[i]);
        }
        this.name = sb.toString();
    }

    private Linear linear(int units, boolean bias, int in, String pname, Random rng,
            List<NamedParameter> named, List<Parameter> djl) {
        Linear l = Linear.builder().setUnits(units).optBias(bias).build();
        l.initialize(manager, DataType.FLOAT32, new Shape(1, in));
        NDArray w = Mlp.param(l, "weight");
        NDArray b = bias ? Mlp.param(l, "bias") : null;
        Mlp.torchDefaultInit(w, b, rng);
        named.add(new NamedParameter(pname + ".weight", w));
        if (b != null) {
            named.add(new NamedParameter(pname + ".bias", b));
        }
        for (var p : l.getParameters()) {
            djl.add(p.getValue());
        }
        return l;
    }

    @Override
    public String name() {
        return name;
    }

    /** @return the number of columns */
    public int columns() {
        return own.length;
    }

    /**
     * Makes column {@code task} the only trainable one; earlier (and later) columns are frozen.
     *
     * @param task the task about to be trained
     */
    @Override
    public void startTask(int task) {
        if (task < 0 || task >= own.length) {
            throw new IllegalArgumentException("task " + task + " but " + own.length
                    + " columns");
        }
        for (int k = 0; k < own.length; k++) {
            for (Parameter p : columnDjl.get(k)) {
                p.freeze(k != task);
            }
        }
        current = task;
    }

    @Override
    public NDArray logits(NDArray x, int task, boolean training) {
        List<List<NDArray>> h = new ArrayList<>();
        NDArray out = null;
        for (int k = 0; k <= task; k++) {
            List<NDArray> hk = new ArrayList<>();
            for (int l = 0; l <= layers; l++) {
                NDArray in = l == 0 ? x : hk.get(l - 1);
                NDArray z = forward(own[k][l], in, training);
                for (int j = 0; l > 0 && j < k; j++) {
                    z = z.add(forward(lateral[k][l][j], h.get(j).get(l - 1), training));
                }
                if (l < layers) {
                    hk.add(Activation.relu(z));
                } else if (k == task) {
                    out = z;
                }
            }
            h.add(hk);
        }
        long n = x.getShape().get(0);
        NDManager m = x.getManager();
        NDList parts = new NDList();
        if (task > 0) {
            parts.add(m.zeros(new Shape(n, (long) task * width)));
        }
        parts.add(out);
        if ((task + 1) * width < total) {
            parts.add(m.zeros(new Shape(n, total - (long) (task + 1) * width)));
        }
        return parts.size() == 1 ? out : NDArrays.concat(parts, 1);
    }

    private NDArray forward(Linear l, NDArray in, boolean training) {
        return l.forward(store, new NDList(in), training).singletonOrThrow();
    }

    /**
     * @param column a column
     * @return its parameters and its incoming adapters
     */
    public List<NamedParameter> column(int column) {
        return columnParams.get(column);
    }

    @Override
    public List<NamedParameter> trainable() {
        return current < 0 ? List.of() : columnParams.get(current);
    }

    @Override
    public List<NamedParameter> parameters() {
        return Collections.unmodifiableList(all);
    }

    @Override
    public void close() {
        manager.close();
    }
}
