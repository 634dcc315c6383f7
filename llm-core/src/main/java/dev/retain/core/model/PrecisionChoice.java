package dev.retain.core.model;

import dev.retain.core.Engines;
import dev.retain.core.UserError;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What {@code --precision fp32|bf16|auto} resolved to for a model on its device, and why: the
 * first lines of a command and results.json say it.
 *
 * <p>{@code bf16} needs native bfloat16 products ({@link NativeBf16}) and is refused in one line
 * without them. {@code auto} picks bf16 only where the device has them <em>and</em> a measurement
 * on this model says bf16 is faster for the work at hand ({@link Work}): for evaluation the
 * forward pass and the float32 loss of one window, for training also its backward pass (the
 * gradients reaching the float32 parameters, zeroed afterwards), timed in both precisions in
 * alternating order ({@value #ROUNDS} rounds after a warm-up, medians); bf16 when its median is at most
 * {@value #FASTER} of float32's. (The backward pass is about two thirds of a step, and bf16 speeds
 * it up less than the forward on CPUs without AMX: docs/PRECISION.md.)
 *
 * @param precision the format the model computes in
 * @param setting what was asked: {@code fp32}, {@code bf16} or {@code auto}
 * @param why one clause: the hardware found, and for {@code auto} the measurement
 */
public record PrecisionChoice(Precision precision, String setting, String why) {

    /** What {@code auto} measures: the work the model is about to do. */
    public enum Work {
        /** Forward passes only (evaluation, generation). */
        EVALUATION,
        /** Forward and backward passes (training, a Fisher estimate). */
        TRAINING
    }

    /** The values of {@code --precision}. */
    public static final List<String> SETTINGS = List.of("fp32", "bf16", "auto");
    static final int ROUNDS = 4;
    /** bf16's time over float32's at or below which {@code auto} takes bf16. */
    static final double FASTER = 0.9;

    /**
     * Resolves a setting for a model and puts the model in that precision.
     *
     * @param setting {@code fp32}, {@code bf16} or {@code auto}
     * @param lm the model (its device decides)
     * @param probeTokens the window {@code auto} measures on (capped at the context)
     * @param work what {@code auto} measures: a forward pass, or a forward and backward pass
     * @return the choice
     * @throws UserError for bf16 on hardware without native bfloat16
     */
    public static PrecisionChoice apply(String setting, CausalLm lm, int probeTokens, Work work) {
        PrecisionChoice c = choose(setting, lm, probeTokens, work);
        lm.usePrecision(c.precision());
        return c;
    }

    private static PrecisionChoice choose(String setting, CausalLm lm, int probeTokens,
            Work work) {
        String found = NativeBf16.found(lm.device());
        switch (setting) {
            case "fp32":
                return new PrecisionChoice(Precision.FP32, setting, "as set");
            case "bf16":
                if (found == null) {
                    throw new UserError("--precision bf16: " + NativeBf16.missing(lm.device())
                            + "; use --precision fp32 or auto");
                }
                return new PrecisionChoice(Precision.BF16, setting, "as set; native through "
                        + found);
            case "auto":
                if (found == null) {
                    return new PrecisionChoice(Precision.FP32, setting,
                            NativeBf16.missing(lm.device()));
                }
                double ratio = measure(lm, Math.min(probeTokens, lm.context()), work);
                Precision p = ratio <= FASTER ? Precision.BF16 : Precision.FP32;
                return new PrecisionChoice(p, setting, String.format(Locale.ROOT, "%s; one window"
                        + " of %d tokens (%s) took %.2fx float32's time in bf16, bf16 wanted at"
                        + " <= %.2f", found, Math.min(probeTokens, lm.context()),
                        work == Work.TRAINING ? "forward, loss and backward" : "forward and loss",
                        ratio, FASTER));
            default:
                throw new UserError("--precision " + setting + ": expected one of "
                        + String.join(", ", SETTINGS));
        }
    }

    /**
     * Times the forward pass and loss of one window (and for training its backward pass) in
     * float32 and bfloat16, in alternating order.
     *
     * @return bf16's median time over float32's
     */
    static double measure(CausalLm lm, int tokens, Work work) {
        lm.usePrecision(Precision.BF16);
        long[] ids = new long[tokens];
        for (int i = 0; i < tokens; i++) {
            ids[i] = (i * 7919L) % lm.vocabSize();
        }
        double[] fp32 = new double[ROUNDS + 1];
        double[] bf16 = new double[ROUNDS + 1];
        try (NDManager scope = lm.manager().newSubManager()) {
            NDArray input = scope.create(ids, new Shape(1, tokens));
            for (int r = 0; r <= ROUNDS; r++) { // round 0 warms up
                // in alternating order: the first pass of a round pays more (with float32 always
                // first, bf16 looked about 3x faster at a training step than alternating shows)
                for (boolean b : r % 2 == 0 ? new boolean[] {false, true}
                        : new boolean[] {true, false}) {
                    (b ? bf16 : fp32)[r] = pass(lm, scope, input, b, work == Work.TRAINING);
                }
            }
        } finally {
            if (work == Work.TRAINING) {
                for (NamedParameter p : lm.parameters()) { // nothing of the probe is left
                    if (p.array().hasGradient()) {
                        JniUtils.zeroGrad((PtNDArray) p.array());
                    }
                }
            }
        }
        return median(Arrays.copyOfRange(bf16, 1, ROUNDS + 1))
                / median(Arrays.copyOfRange(fp32, 1, ROUNDS + 1));
    }

    /**
     * One forward pass and loss, and for training its backward pass, in bfloat16 or in float32.
     *
     * @return its seconds
     */
    private static double pass(CausalLm lm, NDManager scope, NDArray input, boolean bf16,
            boolean training) {
        try (NDManager m = scope.newSubManager();
                GradientCollector gc = training ? Engines.pytorch().newGradientCollector()
                        : null) {
            long t0 = System.nanoTime();
            NDArray logits = bf16 ? lm.logits(input, training)
                    : lm.float32Logits(input, training);
            logits.attach(m);
            NDArray loss = LmLoss.tokenNll(logits, input).mean();
            if (!training) {
                loss.getFloat();
            } else if (bf16) {
                lm.backward(gc, loss);
            } else {
                gc.backward(loss);
            }
            return (System.nanoTime() - t0) / 1e9;
        }
    }

    private static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** @return e.g. {@code precision bf16 (auto: avx512_bf16; ...)} */
    public String describe() {
        return "precision " + precision.label() + " (" + (setting.equals(precision.label())
                ? why : setting + ": " + why) + ")";
    }
}
