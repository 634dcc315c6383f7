package dev.retain.eval.generate;

import dev.retain.core.model.CausalLm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Continues a prompt with a causal LM, one token at a time, without a cache: each step runs the
 * model on the prompt and the tokens so far (the last {@code context} of them when they are more)
 * and chooses the next token from the last position's logits ({@link Sampling}). Generation
 * stops after {@code maxNew} tokens or at the end-of-text token, which is not part of the
 * continuation. An empty prompt starts from the end-of-text token, as GPT-2's unconditional
 * samples do. {@code tools/reference_generate.py} is the same loop in PyTorch.
 */
public final class Generator {

    private Generator() {}

    /**
     * @param lm the model
     * @param prompt the prompt's token ids
     * @param maxNew the most tokens to add
     * @param sampling how to choose each token
     * @param eos the end-of-text id
     * @return the new token ids
     */
    public static int[] generate(CausalLm lm, long[] prompt, int maxNew, Sampling sampling,
            int eos) {
        List<Long> ids = new ArrayList<>();
        if (prompt.length == 0) {
            ids.add((long) eos);
        }
        for (long id : prompt) {
            ids.add(id);
        }
        Random rng = new Random(sampling.seed());
        int[] out = new int[maxNew];
        int n = 0;
        while (n < maxNew) {
            float[] logits = lastLogits(lm, ids);
            int next = sampling.sample() ? draw(logits, sampling, rng) : argmax(logits);
            if (next == eos) {
                break;
            }
            out[n++] = next;
            ids.add((long) next);
        }
        return Arrays.copyOf(out, n);
    }

    private static float[] lastLogits(CausalLm lm, List<Long> ids) {
        int t = Math.min(ids.size(), lm.context());
        long[] window = new long[t];
        for (int i = 0; i < t; i++) {
            window[i] = ids.get(ids.size() - t + i);
        }
        try (NDManager scope = lm.manager().newSubManager()) {
            NDArray input = scope.create(window, new Shape(1, t));
            NDArray logits = lm.logits(input, false);
            return logits.get(new NDIndex("0, -1, :")).toFloatArray();
        }
    }

    /**
     * @param logits one position's logits
     * @return the index of the largest, the lowest among equals
     */
    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Draws a token: probabilities from {@code (logits - max) / temperature} in double, the
     * tokens sorted by logit (then id), cut to top-k and top-p, renormalised, and one uniform
     * draw walked down the sorted list.
     */
    static int draw(float[] logits, Sampling s, Random rng) {
        Integer[] order = new Integer[logits.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a])
                : Integer.compare(a, b));
        int keep = s.topK() > 0 ? Math.min(s.topK(), order.length) : order.length;
        double max = logits[order[0]];
        double[] p = new double[keep];
        double total = 0;
        for (int i = 0; i < keep; i++) {
            p[i] = Math.exp((logits[order[i]] - max) / s.temperature());
            total += p[i];
        }
        if (s.topP() < 1) {
            double cum = 0;
            int cut = keep;
            for (int i = 0; i < keep; i++) {
                cum += p[i] / total;
                if (cum >= s.topP()) {
                    cut = i + 1;
                    break;
                }
            }
            keep = cut;
            total = 0;
            for (int i = 0; i < keep; i++) {
                total += p[i];
            }
        }
        double u = rng.nextDouble() * total;
        double cum = 0;
        for (int i = 0; i < keep; i++) {
            cum += p[i];
            if (u < cum) {
                return order[i];
            }
        }
        return order[keep - 1];
    }
}
