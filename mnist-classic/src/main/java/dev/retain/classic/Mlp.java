package dev.retain.classic;

import dev.retain.core.model.NamedParameter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The multilayer perceptron of the published Split/Permuted MNIST setups (van de Ven &amp; Tolias
 * 2019; Hsu et al. 2018): {@code inputs -> hidden -> ReLU -> ... -> hidden -> ReLU -> outputs},
 * two hidden layers of 400 units by default, as a DJL {@link SequentialBlock} of {@link Linear}
 * and ReLU blocks.
 *
 * <p>Parameters start as PyTorch's {@code nn.Linear} does (weights and biases uniform in
 * {@code +-1/sqrt(fan_in)}), drawn from a {@code java.util.Random} with the given seed, so a run is
 * reproducible without touching the engine's global generator.
 */
public final class Mlp implements Classifier {

    private final NDManager manager;
    private final SequentialBlock block;
    private final ParameterStore store;
    private final List<NamedParameter> params = new ArrayList<>();
    private final String name;

    /**
     * Builds and initialises the network.
     *
     * @param parent manager its parameters live under
     * @param inputs input size (784)
     * @param hidden width of each hidden layer, in order
     * @param outputs output units (all heads together)
     * @param seed seed of the initial weights
     */
    public Mlp(NDManager parent, int inputs, int[] hidden, int outputs, long seed) {
        this.manager = parent.newSubManager();
        this.block = new SequentialBlock();
        List<String> layerNames = new ArrayList<>();
        List<Linear> layers = new ArrayList<>();
        for (int i = 0; i < hidden.length; i++) {
            Linear l = Linear.builder().setUnits(hidden[i]).build();
            block.add(l).add(Activation.reluBlock());
            layers.add(l);
            layerNames.add("fc" + (i + 1));
        }
        Linear out = Linear.builder().setUnits(outputs).build();
        block.add(out);
        layers.add(out);
        layerNames.add("out");
        block.initialize(manager, DataType.FLOAT32, new Shape(1, inputs));
        Random rng = new Random(seed);
        for (int i = 0; i < layers.size(); i++) {
            Linear l = layers.get(i);
            NDArray w = param(l, "weight");
            NDArray b = param(l, "bias");
            torchDefaultInit(w, b, rng);
            params.add(new NamedParameter(layerNames.get(i) + ".weight", w));
            params.add(new NamedParameter(layerNames.get(i) + ".bias", b));
        }
        this.store = new ParameterStore(manager, false);
        StringBuilder sb = new StringBuilder("mlp");
        for (int h : hidden) {
            sb.append('-').append(h);
        }
        this.name = sb.toString();
    }

    static NDArray param(ai.djl.nn.Block b, String name) {
        for (var p : b.getParameters()) {
            if (p.getKey().equals(name)) {
                return p.getValue().getArray();
            }
        }
        throw new IllegalStateException("no parameter " + name + " in " + b);
    }

    /**
     * Fills a layer's weight {@code [out, in]} and bias {@code [out]} uniformly in {@code
     * +-1/sqrt(in)}, PyTorch's default for {@code nn.Linear}.
     */
    static void torchDefaultInit(NDArray w, NDArray b, Random rng) {
        long fanIn = w.getShape().get(1);
        float bound = (float) (1 / Math.sqrt(fanIn));
        w.set(uniform((int) w.size(), bound, rng));
        if (b != null) {
            b.set(uniform((int) b.size(), bound, rng));
        }
    }

    private static float[] uniform(int n, float bound, Random rng) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (rng.nextFloat() * 2 - 1) * bound;
        }
        return v;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public NDArray logits(NDArray x, int task, boolean training) {
        return block.forward(store, new NDList(x), training).singletonOrThrow();
    }

    /**
     * The same network evaluated with other weights (for MAML's fast weights): {@code weights}
     * in the order of {@link #parameters()}.
     *
     * @param x {@code [batch, inputs]}
     * @param weights weight, bias, weight, bias, ... of each layer in turn
     * @return the logits
     */
    public NDArray logits(NDArray x, List<NDArray> weights) {
        NDArray h = x;
        int layers = weights.size() / 2;
        for (int i = 0; i < layers; i++) {
            h = Linear.linear(h, weights.get(2 * i), weights.get(2 * i + 1)).singletonOrThrow();
            if (i < layers - 1) {
                h = Activation.relu(h);
            }
        }
        return h;
    }

    /**
     * The gradient of {@link Losses#crossEntropy} with respect to {@code weights}, written out as
     * ordinary tensor operations (back-propagation by hand) instead of taken by autograd, so that
     * autograd can differentiate it again: MAML's second-order meta-gradient through an inner
     * step, without {@code backward(create_graph=true)}. (DJL 0.36 can run that backward, but it
     * leaves each parameter's {@code .grad} holding the graph that points back to the parameter,
     * a reference cycle libtorch never frees, and DJL has no way to reset {@code .grad}; see
     * docs/CLASSIC.md.) ReLU's derivative is the constant mask {@code z > 0}, as in autograd.
     *
     * @param x {@code [n, inputs]}
     * @param mask the additive output mask
     * @param oneHot the one-hot targets
     * @param weights weight, bias, ... of each layer ({@link #parameters()} order)
     * @return d loss / d weight for each weight, same order, differentiable in {@code weights}
     */
    public List<NDArray> lossGradients(NDArray x, NDArray mask, NDArray oneHot,
            List<NDArray> weights) {
        int layers = weights.size() / 2;
        List<NDArray> act = new ArrayList<>();
        List<NDArray> pre = new ArrayList<>();
        NDArray h = x;
        for (int i = 0; i < layers; i++) {
            act.add(h);
            NDArray z = Linear.linear(h, weights.get(2 * i), weights.get(2 * i + 1))
                    .singletonOrThrow();
            pre.add(z);
            h = i < layers - 1 ? Activation.relu(z) : z;
        }
        long n = x.getShape().get(0);
        // d/dz of mean_n -log softmax(z + mask)[y] = (softmax(z + mask) - onehot) / n
        NDArray delta = h.add(mask).softmax(1).sub(oneHot).div(n);
        NDArray[] grads = new NDArray[weights.size()];
        for (int i = layers - 1; i >= 0; i--) {
            grads[2 * i] = delta.transpose().dot(act.get(i));
            grads[2 * i + 1] = delta.sum(new int[] {0});
            if (i > 0) {
                NDArray relu = pre.get(i - 1).gt(0).toType(DataType.FLOAT32, false);
                delta = delta.dot(weights.get(2 * i)).mul(relu);
            }
        }
        return List.of(grads);
    }

    @Override
    public List<NamedParameter> trainable() {
        return params;
    }

    @Override
    public List<NamedParameter> parameters() {
        return params;
    }

    /** @return the DJL block (for inspection) */
    public SequentialBlock block() {
        return block;
    }

    @Override
    public void close() {
        manager.close();
    }
}
