package dev.retain.eval.tasks;

import dev.retain.core.util.Progress;
import dev.retain.eval.tasks.TaskRequests.Request;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Scores loglikelihood requests in batched forward passes: {@code ll} = the sum of the
 * continuation tokens' log-probabilities (float32 log-softmax, summed in double), {@code
 * is_greedy} = every continuation token is the argmax of its log-probabilities (ties to the
 * lowest id, as {@code torch.argmax}).
 *
 * <p><b>Batching.</b> The requests of one example (the choices sharing a context, or a document's
 * windows) form a unit, scored in one forward pass where they fit; units are taken longest first
 * (as the harness sorts its requests, so padding stays small) and packed into batches whose
 * logits stay within a 256 MiB budget, as {@code retain eval}'s windows are. Inputs are padded on
 * the right; a causal model's positions never see what comes after them, so padding changes no
 * score. Only the continuation positions' logits go through the log-softmax.
 */
public final class TaskScorer {

    /** Upper bound on floats in one batch's logits (256 MiB), as the evaluator's. */
    static final long LOGIT_BUDGET = 1L << 26;

    private TaskScorer() {}

    /**
     * One request's score.
     *
     * @param ll the continuation's log-likelihood, nats
     * @param greedy whether every continuation token is the argmax
     */
    public record Scored(double ll, boolean greedy) {}

    /**
     * What a scoring pass cost.
     *
     * @param requests requests scored
     * @param tokens input tokens fed to the model (padding not counted)
     * @param padded positions fed, padding included
     * @param batches forward passes
     * @param seconds wall time
     */
    public record Stats(long requests, long tokens, long padded, long batches, double seconds) {

        /** @return input tokens per second */
        public double tokensPerSecond() {
            return seconds > 0 ? tokens / seconds : 0;
        }

        /**
         * @param o another pass
         * @return both together
         */
        public Stats plus(Stats o) {
            return new Stats(requests + o.requests, tokens + o.tokens, padded + o.padded,
                    batches + o.batches, seconds + o.seconds);
        }

        /** Nothing yet. */
        public static final Stats NONE = new Stats(0, 0, 0, 0, 0);
    }

    /**
     * The scores of a list of requests.
     *
     * @param scores one per request, in the requests' order
     * @param stats what it cost
     */
    public record Outcome(Scored[] scores, Stats stats) {}

    /**
     * Scores requests.
     *
     * @param model the model
     * @param requests the requests, each example's requests next to each other
     * @param maxRows at most this many requests per forward pass; 0 for the logits budget alone
     * @param label the progress line's label
     * @param progress whether to show a progress line on stderr
     * @return the scores
     */
    public static Outcome score(LogitModel model, List<Request> requests, int maxRows,
            String label, boolean progress) {
        int maxLength = model.context();
        long t0 = System.nanoTime();
        Scored[] out = new Scored[requests.size()];
        long tokens = 0;
        long padded = 0;
        List<List<Integer>> batches = batches(requests, maxLength, model.vocabSize(), maxRows);
        try (Progress p = new Progress(label, requests.size(), progress)) {
            for (List<Integer> batch : batches) {
                int t = 0;
                for (int i : batch) {
                    int n = requests.get(i).inputLength(maxLength);
                    t = Math.max(t, n);
                    tokens += n;
                }
                padded += (long) t * batch.size();
                scoreBatch(model, requests, batch, t, out);
                p.advance(batch.size());
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        return new Outcome(out, new Stats(requests.size(), tokens, padded, batches.size(), secs));
    }

    /** Packs the requests into batches: units whole where they fit, longest units first. */
    static List<List<Integer>> batches(List<Request> requests, int maxLength, int vocab,
            int maxRows) {
        List<int[]> units = new ArrayList<>();
        for (int i = 0; i < requests.size(); ) {
            int j = i;
            int longest = 0;
            while (j < requests.size() && requests.get(j).doc() == requests.get(i).doc()) {
                longest = Math.max(longest, requests.get(j).inputLength(maxLength));
                j++;
            }
            units.add(new int[] {i, j, longest});
            i = j;
        }
        units.sort(Comparator.comparingInt((int[] u) -> -u[2]));
        List<List<Integer>> out = new ArrayList<>();
        List<Integer> cur = new ArrayList<>();
        int curT = 0;
        for (int[] u : units) {
            if (!cur.isEmpty() && !fits(cur.size() + u[1] - u[0], Math.max(curT, u[2]), vocab,
                    maxRows)) {
                out.add(cur);
                cur = new ArrayList<>();
                curT = 0;
            }
            for (int i = u[0]; i < u[1]; i++) {
                int n = requests.get(i).inputLength(maxLength);
                if (!cur.isEmpty() && !fits(cur.size() + 1, Math.max(curT, n), vocab, maxRows)) {
                    out.add(cur);
                    cur = new ArrayList<>();
                    curT = 0;
                }
                cur.add(i);
                curT = Math.max(curT, n);
            }
        }
        if (!cur.isEmpty()) {
            out.add(cur);
        }
        return out;
    }

    private static boolean fits(int rows, int length, int vocab, int maxRows) {
        if (maxRows > 0) {
            return rows <= maxRows;
        }
        return (long) rows * length * vocab <= LOGIT_BUDGET;
    }

    private static void scoreBatch(LogitModel model, List<Request> requests, List<Integer> batch,
            int t, Scored[] out) {
        int maxLength = model.context();
        int b = batch.size();
        long[] ids = new long[b * t];
        int rows = 0;
        for (int i : batch) {
            rows += requests.get(i).continuation().length;
        }
        long[] at = new long[rows];
        long[] target = new long[rows];
        int r = 0;
        for (int k = 0; k < b; k++) {
            Request q = requests.get(batch.get(k));
            long[] in = q.input(maxLength);
            System.arraycopy(in, 0, ids, k * t, in.length);
            int c = q.continuation().length;
            for (int j = 0; j < c; j++) {
                // input position n - c + j predicts continuation token j
                at[r] = (long) k * t + in.length - c + j;
                target[r++] = q.continuation()[j];
            }
        }
        float[] lp;
        long[] argmax;
        try (NDManager scope = model.manager().newSubManager()) {
            NDArray logits = model.logits(scope.create(ids, new Shape(b, t)));
            NDArray picked = logits.reshape(-1, logits.getShape().get(2))
                    .get(new NDIndex("{}", scope.create(at)));
            // float32 whatever the logits' type (bfloat16 with --precision bf16)
            NDArray logp = dev.retain.core.model.LmLoss.logSoftmax(picked);
            lp = logp.gather(scope.create(target).reshape(rows, 1), 1).toFloatArray();
            argmax = logp.argMax(-1).toLongArray();
        }
        r = 0;
        for (int i : batch) {
            int c = requests.get(i).continuation().length;
            double ll = 0;
            boolean greedy = true;
            for (int j = 0; j < c; j++, r++) {
                ll += lp[r];
                greedy &= argmax[r] == target[r];
            }
            out[i] = new Scored(ll, greedy);
        }
    }
}
