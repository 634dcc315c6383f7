package dev.retain.eval;

import dev.retain.core.UserError;
import dev.retain.core.model.CausalLm;
import dev.retain.core.model.LmLoss;
import dev.retain.core.model.ModelInputs;
import dev.retain.core.text.TokenFile;
import dev.retain.core.util.Progress;
import dev.retain.eval.forgotten.WindowDetail;
import dev.retain.eval.forgotten.WindowSink;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.List;

/**
 * Perplexity and token accuracy of a causal LM on a token stream, by a protocol simple enough to
 * check against PyTorch (see {@code tools/reference_eval.py}, which implements the same).
 *
 * <p><b>Protocol.</b> The split is one token stream of N tokens. It is cut into consecutive,
 * non-overlapping windows of W tokens (W = the model's context unless a smaller window is asked
 * for); a last partial window is kept when it has at least 2 tokens. In each window of n tokens,
 * positions 1..n-1 are predicted from their prefix inside the window (position 0 has no prefix and
 * is not scored). Perplexity = exp(total NLL / predicted tokens), the NLL of each token taken from
 * a float32 log-softmax and summed in double precision. Token accuracy = the share of predicted
 * tokens whose argmax over the vocabulary equals the actual next token.
 *
 * <p><b>Sliding variant</b> ({@code stride < window}), as in the Hugging Face perplexity guide:
 * windows of up to W tokens start at 0, S, 2S, ... until one reaches the end of the stream; each
 * window scores only the tokens that no earlier window scored (the last {@code end - prevEnd}
 * positions; in the first window positions 1..n-1). Every token but the first is scored once, with
 * up to W-S tokens of extra left context. More accurate, W/S times the compute.
 */
public final class Evaluator {

    /**
     * Upper bound on floats in one batch's logits (256 MiB), which sets the batch size: about
     * 1,300 tokens over GPT-2's vocabulary (5 windows of 256, 1 of 1024). Measured on 32 windows
     * of the d=256 benchmark model: 1 window per batch 3.38 s, 2: 3.21 s, 4: 3.02 s, 8: 3.04 s; the
     * d=32 tiny model takes the same time at 8 to 32 windows per batch.
     */
    private static final long LOGIT_BUDGET = 1L << 26;

    private Evaluator() {}

    /**
     * How to evaluate.
     *
     * @param window tokens per window; 0 for the model's context
     * @param stride 0 or equal to the window for non-overlapping windows, smaller to slide
     * @param maxWindows evaluate only the first this many windows (0 for all), for quick checks
     * @param batchSize windows per forward pass; 0 to choose from the memory budget
     * @param progress whether to show a progress line on stderr
     */
    public record Options(int window, int stride, long maxWindows, int batchSize,
            boolean progress) {

        /** @return the protocol's defaults: full context, non-overlapping, everything */
        public static Options defaults() {
            return new Options(0, 0, 0, 0, true);
        }
    }

    /** One window: where it starts, how long it is, which position is the first scored. */
    record Window(long start, int length, int firstScored) {}

    /**
     * Lays out the windows of the protocol.
     *
     * @param n tokens in the stream
     * @param window W
     * @param stride S (0 or W for non-overlapping)
     * @return the windows, in order
     */
    static List<Window> windows(long n, int window, int stride) {
        List<Window> out = new ArrayList<>();
        if (stride <= 0 || stride >= window) {
            for (long start = 0; start < n; start += window) {
                int len = (int) Math.min(window, n - start);
                if (len >= 2) {
                    out.add(new Window(start, len, 1));
                }
            }
            return out;
        }
        long prevEnd = 0;
        for (long begin = 0; begin < n; begin += stride) {
            long end = Math.min(begin + window, n);
            int len = (int) (end - begin);
            long trg = end - prevEnd;
            int first = (int) Math.max(1, len - trg);
            if (len >= 2 && first < len) {
                out.add(new Window(begin, len, first));
            }
            prevEnd = end;
            if (end == n) {
                break;
            }
        }
        return out;
    }

    /**
     * Evaluates a model on a token stream.
     *
     * @param lm the model
     * @param tokens the stream
     * @param domain the domain's name, for the result
     * @param split the split's name, for the result
     * @param opt options
     * @return the score
     */
    public static EvalResult evaluate(
            CausalLm lm, TokenFile tokens, String domain, String split, Options opt) {
        return evaluate(lm, tokens, domain, split, opt, null);
    }

    /**
     * Evaluates a model on a token stream and hands each scored window's per-token NLLs and
     * argmaxes to a sink while it wants more (the same numbers the score is summed from).
     *
     * @param lm the model
     * @param tokens the stream
     * @param domain the domain's name, for the result
     * @param split the split's name, for the result
     * @param opt options
     * @param sink receives the first windows' detail, or null
     * @return the score
     */
    public static EvalResult evaluate(CausalLm lm, TokenFile tokens, String domain, String split,
            Options opt, WindowSink sink) {
        int window = ModelInputs.window("--window", opt.window(), lm);
        if (opt.stride() < 0 || opt.stride() > window) {
            throw new UserError("--stride " + opt.stride() + ": must be between 1 and the window ("
                    + window + ")");
        }
        List<Window> all = windows(tokens.size(), window, opt.stride());
        if (opt.maxWindows() > 0 && all.size() > opt.maxWindows()) {
            all = all.subList(0, (int) opt.maxWindows());
        }
        long predicted = 0;
        long correct = 0;
        double nll = 0;
        long t0 = System.nanoTime();
        try (Progress progress = new Progress("eval " + domain + "/" + split, all.size(),
                opt.progress())) {
            int i = 0;
            while (i < all.size()) {
                int len = all.get(i).length();
                int budget = opt.batchSize() > 0 ? opt.batchSize()
                        : (int) Math.max(1, LOGIT_BUDGET / ((long) len * lm.vocabSize()));
                int j = i;
                while (j < all.size() && j - i < budget && all.get(j).length() == len) {
                    j++;
                }
                Batch b = scoreBatch(lm, tokens, all.subList(i, j), len, sink);
                predicted += b.predicted;
                correct += b.correct;
                nll += b.nll;
                progress.advance(j - i);
                i = j;
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        return new EvalResult(domain, split, tokens.size(), all.size(), predicted, nll, correct,
                secs);
    }

    private record Batch(long predicted, long correct, double nll) {}

    private static Batch scoreBatch(CausalLm lm, TokenFile tokens, List<Window> ws, int len,
            WindowSink sink) {
        int b = ws.size();
        long[] ids = new long[b * len];
        for (int k = 0; k < b; k++) {
            tokens.copy(ws.get(k).start(), ids, k * len, len);
        }
        try (NDManager scope = lm.manager().newSubManager()) {
            NDArray input = scope.create(ids, new Shape(b, len));
            NDArray logits = lm.logits(input, false);
            // argmax over the whole logits tensor (a slice would be copied first), then drop the
            // last position, which predicts past the window
            NDArray top = logits.argMax(-1);
            NDArray tokenNll = LmLoss.evalTokenNll(logits, input, top);
            NDArray hits = top.get(new NDIndex(":, :-1")).eq(input.get(new NDIndex(":, 1:")));
            float[] nll = tokenNll.toFloatArray();
            boolean[] hit = hits.toBooleanArray();
            if (sink != null && sink.wantsMore()) {
                keep(sink, ws, ids, nll, top.toLongArray(), len);
            }
            long predicted = 0;
            long correct = 0;
            double sum = 0;
            for (int k = 0; k < b; k++) {
                int base = k * (len - 1);
                // Position p of the window is predicted by logits row p-1.
                for (int p = ws.get(k).firstScored(); p < len; p++) {
                    sum += nll[base + p - 1];
                    if (hit[base + p - 1]) {
                        correct++;
                    }
                    predicted++;
                }
            }
            return new Batch(predicted, correct, sum);
        }
    }

    /** Hands the batch's windows to the sink, in order, while it wants more. */
    private static void keep(WindowSink sink, List<Window> ws, long[] ids, float[] nll,
            long[] top, int len) {
        for (int k = 0; k < ws.size() && sink.wantsMore(); k++) {
            int first = ws.get(k).firstScored();
            int[] window = new int[len];
            for (int p = 0; p < len; p++) {
                window[p] = (int) ids[k * len + p];
            }
            float[] n = new float[len - first];
            int[] a = new int[len - first];
            for (int p = first; p < len; p++) {
                // position p is predicted by row p-1 (nll rows are len-1 long, argmax rows len)
                n[p - first] = nll[k * (len - 1) + p - 1];
                a[p - first] = (int) top[k * len + p - 1];
            }
            sink.accept(new WindowDetail(ws.get(k).start(), first, window, n, a));
        }
    }
}
