// What the evaluation's exact NLL costs (docs/FORGETTING.md, "How close"): run by
// tools/nll_cost.sh with the application's jar on the class path (Java's single-file launch).
//
// One process, the model loaded once, batches of consecutive test windows of one domain: each
// round runs, per batch, the forward pass, then on its logits the float32 log-softmax NLL
// (LmLoss.tokenNll, what the evaluator summed before) and the exact NLL (LmLoss.evalTokenNll: a
// softmax summed again with a pairwise sum), in alternating order, after the argmax that the
// evaluator computes anyway (the exact NLL reads it). Prints the median per-round seconds of each part, the exact NLL's cost relative to
// the whole evaluation step (forward + argmax + NLL), and the largest difference of the two NLLs.
//
// usage: NllCost MODEL TOKENIZER DOMAIN SEQ_LEN BATCH BATCHES ROUNDS

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.retain.core.Engines;
import dev.retain.core.model.CausalLm;
import dev.retain.core.model.LmLoss;
import dev.retain.core.text.Domain;
import dev.retain.core.text.GptTokenizer;
import dev.retain.core.text.Split;
import dev.retain.core.text.TokenFile;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

public class NllCost {

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        Path tokenizer = Path.of(args[1]);
        Domain domain = Domain.of(Path.of(args[2]));
        int seq = Integer.parseInt(args[3]);
        int batch = Integer.parseInt(args[4]);
        int batches = Integer.parseInt(args[5]);
        int rounds = Integer.parseInt(args[6]);
        double[][] t = new double[4][rounds]; // forward, argmax, float32 log-softmax, exact
        double worst = 0;
        try (CausalLm lm = CausalLm.load(model, Engines.device("auto"), 0);
                GptTokenizer tok = GptTokenizer.load(tokenizer)) {
            TokenFile ids = domain.tokens(Split.TEST, tok, false);
            long need = (long) seq * batch * batches;
            if (ids.size() < need) {
                throw new IllegalArgumentException(args[2] + ": test split has " + ids.size()
                        + " tokens, " + need + " needed");
            }
            for (int r = -1; r < rounds; r++) { // round -1: warm-up
                for (int k = 0; k < batches; k++) {
                    long[] w = new long[seq * batch];
                    ids.copy((long) k * w.length, w, 0, w.length);
                    try (NDManager scope = lm.manager().newSubManager()) {
                        NDArray input = scope.create(w, new Shape(batch, seq));
                        long t0 = System.nanoTime();
                        NDArray logits = lm.logits(input, false);
                        logits.getFloat(0, 0, 0); // wait for it
                        long t1 = System.nanoTime();
                        NDArray top = logits.argMax(-1);
                        top.toLongArray();
                        long t2 = System.nanoTime();
                        // the two NLLs in alternating order, each timed
                        float[][] nll = new float[2][];
                        long[] took = new long[2];
                        for (int v : (r + k) % 2 == 0 ? new int[] {0, 1} : new int[] {1, 0}) {
                            long s0 = System.nanoTime();
                            nll[v] = scoped(logits, input, top, v == 1);
                            took[v] = System.nanoTime() - s0;
                        }
                        float[] a = nll[0];
                        float[] b = nll[1];
                        for (int i = 0; i < a.length; i++) {
                            worst = Math.max(worst, Math.abs(a[i] - b[i]));
                        }
                        if (r >= 0) {
                            t[0][r] += (t1 - t0) / 1e9;
                            t[1][r] += (t2 - t1) / 1e9;
                            t[2][r] += took[0] / 1e9;
                            t[3][r] += took[1] / 1e9;
                        }
                    }
                }
            }
            double fwd = median(t[0]);
            double top = median(t[1]);
            double f32 = median(t[2]);
            double exact = median(t[3]);
            System.out.printf(Locale.ROOT, "model %s (%,d parameters), %d batches of %d x %d"
                    + " tokens, %d rounds (medians)%n", model, lm.parameterCount(), batches,
                    batch, seq, rounds);
            System.out.printf(Locale.ROOT, "forward %.3f s, argmax %.3f s, float32 log-softmax"
                    + " NLL %.3f s, exact NLL %.3f s (%.2fx)%n", fwd, top, f32, exact,
                    exact / f32);
            System.out.printf(Locale.ROOT, "evaluation step with the exact NLL / with the"
                    + " log-softmax: %.4f%n", (fwd + top + exact) / (fwd + top + f32));
            System.out.printf(Locale.ROOT, "largest |NLL difference|: %.3g nats%n", worst);
        }
    }

    /**
     * One NLL variant with its temporaries in a scope of their own, freed when it returns (as the
     * evaluator frees each batch's), so that neither variant finds the other's memory held.
     */
    static float[] scoped(NDArray logits, NDArray input, NDArray top, boolean exact) {
        try (NDManager own = logits.getManager().newSubManager()) {
            logits.tempAttach(own);
            input.tempAttach(own);
            top.tempAttach(own);
            return (exact ? LmLoss.evalTokenNll(logits, input, top)
                    : LmLoss.tokenNll(logits, input)).toFloatArray();
        }
    }

    static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
