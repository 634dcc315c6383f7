package dev.retain.train.optim;

import dev.retain.core.model.NamedParameter;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyGroup;
import dev.retain.train.config.Settings;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter) with decoupled weight decay, whose state we own so that a
 * checkpoint can hold it (DJL's {@code Adam} keeps its moments private).
 *
 * <p>The update itself is libtorch's fused DJL kernel ({@code JniUtils.adamUpdate} with {@code
 * adamw=true}): one native call per tensor. Per tensor, with g = rescale * grad:
 *
 * <pre>
 *   theta -= lr * wd * theta                       (decoupled decay; wd = 0 for excluded tensors)
 *   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
 *   theta -= lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps)
 * </pre>
 *
 * The {@code rescale} factor carries gradient clipping and accumulation averaging, so neither
 * needs a pass of its own over the gradients. After the update the gradients are zeroed: libtorch
 * accumulates them across {@code backward()} calls.
 */
public final class AdamW implements AutoCloseable {

    /** The optimizer's settings, with the clipping applied right before its update. */
    public static final KeyGroup KEYS = new KeyGroup();
    /** Decoupled weight decay. */
    public static final Key<Double> WEIGHT_DECAY = KEYS.add(Key.real("weight-decay", 0.01, 0,
            false, "decoupled (AdamW) weight decay; not applied to biases and LayerNorm weights"
                    + " unless --decay-all"));
    /** Weight decay on biases and LayerNorm weights too. */
    public static final Key<Boolean> DECAY_ALL = KEYS.add(Key.flag("decay-all", "apply weight"
            + " decay to biases and LayerNorm weights too"));
    /** The global gradient-norm clip ({@link GradClip}); 0 disables. */
    public static final Key<Double> MAX_GRAD_NORM = KEYS.add(Key.real("max-grad-norm", 1.0, 0,
            false, "clip the global gradient L2 norm to this; 0 disables"));
    /** First-moment decay. */
    public static final Key<Double> BETA1 = KEYS.add(Key.real("adam-beta1", 0.9, 0, false,
            "AdamW beta1"));
    /** Second-moment decay. */
    public static final Key<Double> BETA2 = KEYS.add(Key.real("adam-beta2", 0.999, 0, false,
            "AdamW beta2"));
    /** Denominator epsilon. */
    public static final Key<Double> EPS = KEYS.add(Key.real("adam-eps", 1e-8, 0, true,
            "AdamW epsilon"));

    private final NDManager manager;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final Map<String, NDArray> mean = new LinkedHashMap<>();
    private final Map<String, NDArray> variance = new LinkedHashMap<>();
    private long step;

    /**
     * Creates the optimizer; moments are allocated lazily on the parameters' device.
     *
     * @param parent manager the state lives under
     * @param beta1 first-moment decay
     * @param beta2 second-moment decay
     * @param eps denominator epsilon
     */
    public AdamW(NDManager parent, double beta1, double beta2, double eps) {
        this.manager = parent.newSubManager();
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
    }

    /**
     * Creates the optimizer from a run's settings ({@link #BETA1}, {@link #BETA2}, {@link #EPS}).
     *
     * @param parent manager the state lives under
     * @param s the settings
     */
    public AdamW(NDManager parent, Settings s) {
        this(parent, s.get(BETA1), s.get(BETA2), s.get(EPS));
    }

    /**
     * One update of every parameter from its accumulated gradient, then zeroes the gradients.
     *
     * @param params the parameters
     * @param lr learning rate of this step
     * @param weightDecay decoupled weight decay, applied where {@code decays} says so
     * @param decayAll apply decay to every tensor (also biases and LayerNorm weights)
     * @param rescale factor applied to every gradient first (clipping, averaging)
     */
    public void step(List<NamedParameter> params, double lr, double weightDecay, boolean decayAll,
            double rescale) {
        step++;
        float correction = (float) (lr * Math.sqrt(1 - Math.pow(beta2, step))
                / (1 - Math.pow(beta1, step)));
        for (NamedParameter p : params) {
            PtNDArray w = (PtNDArray) p.array();
            NDArray m = mean.computeIfAbsent(p.name(), k -> manager.zeros(w.getShape(),
                    w.getDataType(), w.getDevice()));
            NDArray v = variance.computeIfAbsent(p.name(), k -> manager.zeros(w.getShape(),
                    w.getDataType(), w.getDevice()));
            float wd = (float) (decayAll || p.decays() ? weightDecay : 0);
            try (PtNDArray g = w.getGradient()) {
                JniUtils.adamUpdate(w, g, (PtNDArray) m, (PtNDArray) v, (float) lr, correction, wd,
                        (float) rescale, -1f, (float) beta1, (float) beta2, (float) eps, true);
            }
            JniUtils.zeroGrad(w);
        }
    }

    /** @return updates done so far (the bias-correction step count) */
    public long stepCount() {
        return step;
    }

    /**
     * The state as named arrays ({@code m:NAME}, {@code v:NAME}) for a checkpoint.
     *
     * @return the arrays (owned by the optimizer: do not close)
     */
    public NDList state() {
        NDList list = new NDList();
        for (var e : mean.entrySet()) {
            e.getValue().setName("m:" + e.getKey());
            list.add(e.getValue());
        }
        for (var e : variance.entrySet()) {
            e.getValue().setName("v:" + e.getKey());
            list.add(e.getValue());
        }
        return list;
    }

    /**
     * Restores the state saved by {@link #state()}.
     *
     * @param arrays the named arrays
     * @param steps the step count
     */
    public void restore(NDList arrays, long steps) {
        mean.values().forEach(NDArray::close);
        variance.values().forEach(NDArray::close);
        mean.clear();
        variance.clear();
        for (NDArray a : arrays) {
            String n = a.getName();
            NDArray mine = a.duplicate();
            mine.attach(manager);
            if (n.startsWith("m:")) {
                mean.put(n.substring(2), mine);
            } else if (n.startsWith("v:")) {
                variance.put(n.substring(2), mine);
            }
        }
        step = steps;
    }

    @Override
    public void close() {
        manager.close();
    }
}
