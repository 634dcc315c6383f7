package dev.retain.classic;

import ai.djl.ndarray.NDArray;

/** The masked softmax cross-entropy all classic strategies train with, and accuracy. */
public final class Losses {

    private Losses() {}

    /**
     * Mean over rows of {@code -log softmax(logits + mask)[target]}: a softmax over only the
     * columns the scenario lets compete (see {@link OutputLayout}); masked columns get no
     * probability and no gradient.
     *
     * @param logits {@code [n, outputs]}
     * @param mask additive mask, 0 or {@link Minibatch#MASKED}
     * @param oneHot one-hot targets
     * @return the scalar loss
     */
    public static NDArray crossEntropy(NDArray logits, NDArray mask, NDArray oneHot) {
        long n = logits.getShape().get(0);
        return logits.add(mask).logSoftmax(1).mul(oneHot).sum().neg().div(n);
    }

    /**
     * @param logits {@code [n, outputs]}
     * @param mask additive mask
     * @param targets target column per row
     * @return how many rows' argmax over the allowed columns is the target
     */
    public static int correct(NDArray logits, NDArray mask, int[] targets) {
        long[] pred = logits.add(mask).argMax(1).toLongArray();
        int ok = 0;
        for (int i = 0; i < pred.length; i++) {
            if (pred[i] == targets[i]) {
                ok++;
            }
        }
        return ok;
    }
}
