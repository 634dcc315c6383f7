package dev.retain.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Next-token cross-entropy of a causal LM, the one definition shared by the evaluator, the trainer
 * and the Fisher estimate: position t's logits predict token t+1.
 *
 * <p>(The article this project grew from compared {@code argmax(logits)} with unshifted labels;
 * for a causal LM the prediction at position t must be compared with the token at t+1.)
 */
public final class LmLoss {

    private LmLoss() {}

    /**
     * Per-token negative log-likelihood of the window's own next tokens.
     *
     * @param logits {@code [B, T, V]}
     * @param inputIds {@code [B, T]} int64: the window itself
     * @return {@code [B, T-1]}: entry (b, t) is {@code -log p(x[b, t+1] | x[b, 0..t])}
     */
    public static NDArray tokenNll(NDArray logits, NDArray inputIds) {
        // The log-softmax runs over all T positions of the logits as they are: slicing off the
        // last position first would make libtorch copy the whole [B, T-1, V] slice to a contiguous
        // tensor (and, in the backward pass, scatter its gradient into another full-vocabulary
        // tensor). The last position's target is a placeholder and its NLL is dropped.
        return nll(logits, shiftLeft(inputIds)).get(new NDIndex(":, :-1"));
    }

    /**
     * Per-token negative log-likelihood for evaluation, exact to float32's own rounding (within
     * about 5e-7 nats of the float64 log-softmax of the same logits). A float32 log-softmax ({@link
     * #tokenNll}) adds the 50,257 exponentials of a row in its vector kernel's lanes, which is off
     * by up to about 1e-4 relative for some models (differently on AVX2 and AVX-512). Here the
     * softmax kernel's rows p (the same rounded sum s' divides every entry of a row) are summed
     * again with libtorch's pairwise sum, which gives the true sum s = s' * sum(p); with s' = 1 /
     * p[top] (the top logit's exponential is exp(0) = 1):
     *
     * <pre>  nll = (logit[top] - logit[target]) + log(sum(p)) - log(p[top])</pre>
     *
     * (the first difference is exact where the two are close: the likely tokens; p[top] is at
     * least 1/V, so nothing underflows). Cost: one softmax and one sum over the vocabulary, as
     * much as the log-softmax (tools/nll_cost.sh). No gradient is meant to flow through it (the
     * training loss keeps the log-softmax). Logits of another type than float32 (a bfloat16
     * model) take the float32 log-softmax of {@link #tokenNll}.
     *
     * @param logits {@code [B, T, V]}
     * @param inputIds {@code [B, T]} int64: the window itself
     * @param top {@code [B, T]} int64: {@code logits.argMax(-1)}, which the evaluator needs anyway
     * @return float32 {@code [B, T-1]}: entry (b, t) is {@code -log p(x[b, t+1] | x[b, 0..t])}
     */
    public static NDArray evalTokenNll(NDArray logits, NDArray inputIds, NDArray top) {
        if (logits.getDataType() != DataType.FLOAT32) {
            return tokenNll(logits, inputIds);
        }
        NDArray at = top.expandDims(-1);
        NDArray p = JniUtils.softmax((PtNDArray) logits, -1, DataType.FLOAT32);
        NDArray sum = p.sum(new int[] {-1});
        NDArray pTop = p.gather(at, -1).squeeze(-1);
        p.close(); // a full-vocabulary temporary: freed at once, not with the batch
        NDArray gap = logits.gather(at, -1).squeeze(-1)
                .sub(logits.gather(shiftLeft(inputIds).expandDims(-1), -1).squeeze(-1));
        return gap.add(sum.log()).sub(pTop.log()).get(new NDIndex(":, :-1"));
    }

    /**
     * The window's next tokens, aligned with its positions: column t holds token t+1; the last
     * column repeats the first token as a placeholder (no position predicts past the window).
     *
     * @param inputIds {@code [B, T]} int64
     * @return {@code [B, T]} int64
     */
    public static NDArray shiftLeft(NDArray inputIds) {
        return inputIds.get(new NDIndex(":, 1:")).concat(inputIds.get(new NDIndex(":, :1")), 1);
    }

    /**
     * Negative log-likelihood of given targets.
     *
     * @param logits {@code [B, T, V]}
     * @param targets {@code [B, T]} int64
     * @return {@code [B, T]}
     */
    public static NDArray nll(NDArray logits, NDArray targets) {
        return logSoftmax(logits).gather(targets.expandDims(-1), -1).squeeze(-1).neg();
    }

    /**
     * The log-softmax over the last axis, computed in float32 whatever the logits' type (as
     * autocast runs it): bfloat16 logits are widened inside the same kernel, and the gradient
     * flows back to them. On float32 logits it is the very call {@code logits.logSoftmax(-1)}
     * makes. (DJL's own {@code logSoftmax} passes the array's type to libtorch, and a bfloat16
     * array's type aborts DJL 0.36's JNI: see {@link BFloat16Copy}.)
     *
     * @param logits {@code [..., V]}, float32 or bfloat16
     * @return float32 {@code [..., V]}
     */
    public static NDArray logSoftmax(NDArray logits) {
        return JniUtils.logSoftmax((PtNDArray) logits, -1, DataType.FLOAT32);
    }
}
