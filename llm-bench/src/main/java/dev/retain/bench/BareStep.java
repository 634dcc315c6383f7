package dev.retain.bench;

import dev.retain.core.Engines;
import dev.retain.core.model.CausalLm;
import dev.retain.core.model.LmLoss;
import dev.retain.core.model.Precision;
import dev.retain.core.text.TokenFile;
import dev.retain.train.optim.AdamW;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The least a training loop can do per step, as the yardstick of the trainer's overhead: forward,
 * the shared next-token cross-entropy ({@link LmLoss}, mean over the batch), backward and an AdamW
 * update, on one fixed batch of windows, with no data loading, replay, penalty, clipping, loss
 * read-back or bookkeeping. Its own copy of the model, so the trainers' states are untouched.
 */
public final class BareStep implements AutoCloseable {

    /** Phases of a step, in order, for {@link #phases()}. */
    public static final String[] PHASES = {"forward", "loss", "backward", "optimizer"};

    private final CausalLm lm;
    private final AdamW adam;
    private final NDManager state;
    private final Engine engine;
    /** The fixed batch, one array of token ids per micro-batch. */
    private final long[][] ids;
    private final int batch;
    private final int accum;
    private final int seqLen;
    private final double lr;
    private final double weightDecay;
    private final List<double[]> phases = new ArrayList<>();

    /**
     * Loads the model and cuts the fixed batch.
     *
     * @param model the {@code .pt}
     * @param device where to run
     * @param tokens the split the batch comes from (its first {@code batch x accum} windows)
     * @param batch windows per micro-batch
     * @param accum micro-batches per step (their gradients summed, each loss divided by it)
     * @param seqLen tokens per window
     * @param lr learning rate of every step
     * @param weightDecay AdamW decoupled weight decay
     * @param precision the number format of the forward and backward passes
     */
    public BareStep(Path model, Device device, TokenFile tokens, int batch, int accum, int seqLen,
            double lr, double weightDecay, Precision precision) {
        this.engine = Engines.pytorch();
        this.lm = CausalLm.load(model, device, 0);
        lm.usePrecision(precision);
        this.state = lm.manager().newSubManager();
        this.adam = new AdamW(state, 0.9, 0.999, 1e-8);
        this.batch = batch;
        this.accum = accum;
        this.seqLen = seqLen;
        this.lr = lr;
        this.weightDecay = weightDecay;
        this.ids = new long[accum][batch * seqLen];
        long windows = tokens.size() / seqLen;
        for (int r = 0; r < batch * accum; r++) {
            tokens.copy((r % Math.max(1, windows)) * seqLen, ids[r / batch], (r % batch) * seqLen,
                    seqLen);
        }
    }

    /** @return the model this step trains */
    public CausalLm model() {
        return lm;
    }

    /**
     * Runs steps, timing each and its phases ({@link #PHASES}: libtorch on the CPU computes each
     * operation before it returns, so a phase's time is the work done in it). The phases of every
     * step run so far are kept for {@link #phases()}.
     *
     * @param n how many
     * @return the wall time of each, seconds
     */
    public double[] time(int n) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            long[] t = new long[PHASES.length + 1];
            long[] d = new long[PHASES.length]; // summed over the micro-batches
            try (NDManager scope = lm.manager().newSubManager()) {
                for (int m = 0; m < accum; m++) {
                    t[0] = System.nanoTime();
                    try (GradientCollector gc = engine.newGradientCollector();
                            NDManager micro = scope.newSubManager()) {
                        NDArray input = micro.create(ids[m], new Shape(batch, seqLen));
                        NDArray logits = lm.logits(input, true);
                        t[1] = System.nanoTime();
                        NDArray loss = LmLoss.tokenNll(logits, input).mean();
                        t[2] = System.nanoTime();
                        lm.backward(gc, accum == 1 ? loss : loss.div(accum));
                        t[3] = System.nanoTime();
                    }
                    for (int k = 0; k < 3; k++) {
                        d[k] += t[k + 1] - t[k];
                    }
                }
                t[3] = System.nanoTime();
                adam.step(lm.parameters(), lr, weightDecay, false, 1.0);
                lm.parametersChanged();
                t[4] = System.nanoTime();
                d[3] = t[4] - t[3];
            }
            out[i] = (System.nanoTime() - t0) / 1e9;
            double[] ph = new double[PHASES.length];
            for (int k = 0; k < PHASES.length; k++) {
                ph[k] = d[k] / 1e9;
            }
            phases.add(ph);
        }
        return out;
    }

    /**
     * The phase times of every step run so far (the scope's release at the end of a step, which
     * frees the step's tensors, is in no phase).
     *
     * @return {@code [phase][step]} seconds
     */
    public double[][] phases() {
        double[][] out = new double[PHASES.length][phases.size()];
        for (int i = 0; i < phases.size(); i++) {
            for (int k = 0; k < PHASES.length; k++) {
                out[k][i] = phases.get(i)[k];
            }
        }
        return out;
    }

    /** Forgets the phases recorded so far (after warm-up). */
    public void clearPhases() {
        phases.clear();
    }

    @Override
    public void close() {
        adam.close();
        state.close();
        lm.close();
    }
}
