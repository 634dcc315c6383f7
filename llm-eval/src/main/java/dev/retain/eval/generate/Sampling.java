package dev.retain.eval.generate;

import dev.retain.core.UserError;

/**
 * How the next token is chosen: greedy (the argmax, the lowest id among equal logits, as {@code
 * torch.argmax}), or sampled from the softmax of the logits divided by the temperature, cut to
 * the {@code topK} most likely tokens (0 = no cut) and then to the smallest set of the most
 * likely whose probability adds up to {@code topP} (1 = no cut), with a seeded generator.
 *
 * @param sample false for greedy
 * @param topK keep this many most likely tokens, 0 for all
 * @param topP keep the most likely tokens up to this much probability, in (0, 1]
 * @param temperature divides the logits, more than 0
 * @param seed seeds the draws ({@code java.util.Random}, whose sequence is fixed by its
 *     specification, so a seed repeats on every machine)
 */
public record Sampling(boolean sample, int topK, double topP, double temperature, long seed) {

    /** Greedy decoding. */
    public static final Sampling GREEDY = new Sampling(false, 0, 1.0, 1.0, 0);

    /** Checks the ranges. */
    public Sampling {
        if (topK < 0) {
            throw new UserError("--top-k " + topK + ": must be 0 (all tokens) or more");
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new UserError("--top-p " + topP + ": must be more than 0 and at most 1");
        }
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new UserError("--temperature " + temperature + ": must be more than 0");
        }
    }

    /**
     * @param seedOffset added to the seed (a prompt's index, so each prompt draws on its own)
     * @return the same sampling with another seed
     */
    public Sampling offset(long seedOffset) {
        return new Sampling(sample, topK, topP, temperature, seed + seedOffset);
    }

    /** @return a short description, e.g. {@code greedy} or {@code sample top-k 40 ...} */
    public String describe() {
        return sample ? String.format(java.util.Locale.ROOT, "sample top-k %d, top-p %s,"
                + " temperature %s, seed %d", topK, topP, temperature, seed) : "greedy";
    }
}
