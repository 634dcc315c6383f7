package dev.retain.train.lm;

import dev.retain.core.model.CausalLm;
import dev.retain.core.model.LmLoss;
import dev.retain.core.model.NamedParameter;
import dev.retain.core.text.TokenFile;
import dev.retain.core.util.Seeds;
import dev.retain.train.ewc.Fisher;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The diagonal Fisher of a causal LM over sequences of one domain, through the shared {@link
 * Fisher} estimator. A unit's loss is the mean next-token NLL of its sequence(s); with {@code
 * sampled} targets each next token is drawn from the model's own distribution (Gumbel-max on the
 * detached logits, seeded), which gives the true Fisher rather than the empirical one.
 */
public final class LmFisher {

    private LmFisher() {}

    /**
     * How to estimate.
     *
     * @param samples sequences drawn from the split
     * @param sampled draw targets from the model (true Fisher) instead of the data (empirical)
     * @param batchSize sequences per unit: 1 is per-sequence, more is "batched"
     * @param seqLen tokens per sequence
     * @param seed seed of the sequence choice and of the sampled targets
     */
    public record Spec(int samples, boolean sampled, int batchSize, int seqLen, long seed) {}

    /**
     * Estimates the Fisher diagonal.
     *
     * @param lm the model
     * @param params its parameters
     * @param tokens the domain's split to draw sequences from
     * @param spec how
     * @param owner manager owning the result
     * @return parameter name to Fisher diagonal
     */
    public static Map<String, NDArray> estimate(CausalLm lm, List<NamedParameter> params,
            TokenFile tokens, Spec spec, NDManager owner) {
        int windows = (int) (tokens.size() / spec.seqLen());
        if (windows == 0) {
            throw new IllegalArgumentException("split shorter than one sequence");
        }
        long[] starts = chooseStarts(windows, spec.samples(), spec.seqLen(),
                new Random(Seeds.derive(spec.seed(), "fisher-data", 0)));
        return estimate(lm, params, starts.length,
                (i, dst, at) -> tokens.copy(starts[i], dst, at, spec.seqLen()), spec, owner);
    }

    /**
     * Estimates the Fisher diagonal over given windows (a task-free run's recent and hard
     * windows), each once, in the given order; {@code spec.samples()} is not used.
     *
     * @param lm the model
     * @param params its parameters
     * @param windows the windows' tokens, each {@code spec.seqLen()} long
     * @param spec how (batch size, targets, seed)
     * @param owner manager owning the result
     * @return parameter name to Fisher diagonal
     */
    public static Map<String, NDArray> estimate(CausalLm lm, List<NamedParameter> params,
            List<long[]> windows, Spec spec, NDManager owner) {
        if (windows.isEmpty()) {
            throw new IllegalArgumentException("no windows to estimate the Fisher over");
        }
        return estimate(lm, params, windows.size(), (i, dst, at) -> System.arraycopy(
                windows.get(i), 0, dst, at, spec.seqLen()), spec, owner);
    }

    /** Copies the i-th sequence's tokens into {@code dst} at {@code at}. */
    private interface Sequences {
        void copy(int i, long[] dst, int at);
    }

    private static Map<String, NDArray> estimate(CausalLm lm, List<NamedParameter> params,
            int count, Sequences seqs, Spec spec, NDManager owner) {
        int b = Math.max(1, spec.batchSize());
        int units = (count + b - 1) / b;
        if (spec.sampled()) {
            Engine.getEngine("PyTorch").setRandomSeed(
                    (int) Seeds.derive(spec.seed(), "fisher-targets", 0));
        }
        Map<String, NDArray> fisher = Fisher.estimate(params, units, (u, scope) -> {
            int from = u * b;
            int rows = Math.min(b, count - from);
            long[] ids = new long[rows * spec.seqLen()];
            for (int r = 0; r < rows; r++) {
                seqs.copy(from + r, ids, r * spec.seqLen());
            }
            NDArray input = scope.create(ids, new Shape(rows, spec.seqLen()));
            NDArray logits = lm.logits(input, true);
            if (!spec.sampled()) {
                return LmLoss.tokenNll(logits, input).mean();
            }
            NDArray head = logits.get(new NDIndex(":, :-1"));
            NDArray u01 = scope.randomUniform(1e-10f, 1f, head.getShape());
            NDArray gumbel = u01.log().neg().log().neg();
            NDArray drawn = head.stopGradient().add(gumbel).argMax(-1);
            return LmLoss.nll(head, drawn).mean();
        }, lm::backward, owner);
        // The backward passes also filled the gradients of the parameters left out of the
        // estimate (EWC's ewc-exclude): zero them too, or the next optimizer step adds them to its
        // own (Fisher zeroes only those it estimates).
        java.util.Set<String> estimated = new java.util.HashSet<>();
        params.forEach(p -> estimated.add(p.name()));
        for (NamedParameter p : lm.parameters()) {
            if (!estimated.contains(p.name()) && p.array().hasGradient()) {
                ai.djl.pytorch.jni.JniUtils.zeroGrad((ai.djl.pytorch.engine.PtNDArray) p.array());
            }
        }
        return fisher;
    }

    /** Distinct windows when there are enough, drawn uniformly; with replacement otherwise. */
    static long[] chooseStarts(int windows, int samples, int seqLen, Random rng) {
        long[] out = new long[samples];
        if (samples <= windows) {
            int[] pool = new int[windows];
            for (int i = 0; i < windows; i++) {
                pool[i] = i;
            }
            for (int i = 0; i < samples; i++) {
                int j = i + rng.nextInt(windows - i);
                int t = pool[i];
                pool[i] = pool[j];
                pool[j] = t;
                out[i] = (long) pool[i] * seqLen;
            }
        } else {
            for (int i = 0; i < samples; i++) {
                out[i] = (long) rng.nextInt(windows) * seqLen;
            }
        }
        return out;
    }
}
