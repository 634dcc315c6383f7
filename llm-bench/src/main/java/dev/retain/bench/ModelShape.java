package dev.retain.bench;

import dev.retain.core.model.CausalLm;
import dev.retain.core.model.NamedParameter;

import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The numbers of a GPT-2-class model that its training FLOPs depend on.
 *
 * <p><b>FLOPs of a training step</b> (the PaLM appendix B convention, as nanoGPT's {@code
 * estimate_mfu}): per token {@code 6 N + 12 n_layer T d}, where N is the trained parameters
 * (each tied tensor once, so the tied embedding counts for the output projection, which is where
 * its FLOPs are; the position table's few FLOP-free parameters are counted too; an untied model's
 * input embedding, a table lookup without FLOPs, is not: its output layer is), {@code 6 N} is the
 * forward (2N) and backward (4N) matrix products, and {@code 12 n_layer T d} the attention scores
 * and their weighted sum (forward and backward) over a context of T tokens. Element-wise work
 * (LayerNorm, GELU, softmax, the optimizer) is not counted: MFU measures useful matrix work.
 *
 * @param parameters trained scalars (tied tensors once)
 * @param lookupOnly scalars of an untied model's input embedding ({@code wte}: looked up, no
 *     matrix product; 0 for a tied model)
 * @param nEmbd model width d
 * @param nLayer transformer blocks
 * @param nHead attention heads (0 when unknown)
 * @param context the model's context
 * @param vocab vocabulary size
 */
public record ModelShape(long parameters, long lookupOnly, int nEmbd, int nLayer, int nHead,
        int context, int vocab) {

    private static final Pattern BLOCK = Pattern.compile("(?:^|\\.)h\\.(\\d+)\\.");

    /**
     * Reads the shape of a loaded model: from its {@code config.json}, else from its parameters
     * (d from the embedding's width, layers from the {@code h.N.} names).
     *
     * @param lm the model
     * @return the shape
     */
    public static ModelShape of(CausalLm lm) {
        int d = lm.config().nEmbd();
        int layers = lm.config().nLayer();
        if (d <= 0) {
            for (NamedParameter p : lm.parameters()) {
                if (p.name().endsWith("wte.weight") && p.array().getShape().dimension() == 2) {
                    d = (int) p.array().getShape().get(1);
                }
            }
        }
        if (layers <= 0) {
            Set<String> seen = new HashSet<>();
            for (NamedParameter p : lm.parameters()) {
                Matcher m = BLOCK.matcher(p.name());
                if (m.find()) {
                    seen.add(m.group(1));
                }
            }
            layers = seen.size();
        }
        long wte = 0;
        boolean head = false;
        for (NamedParameter p : lm.parameters()) {
            wte += p.name().endsWith("wte.weight") ? p.array().size() : 0;
            head |= p.name().endsWith("lm_head.weight"); // a tied head is not listed again
        }
        return new ModelShape(lm.parameterCount(), head ? wte : 0, d, layers, lm.config().nHead(),
                lm.context(), lm.vocabSize());
    }

    /**
     * Training FLOPs per token at a sequence length.
     *
     * @param seqLen tokens per window T
     * @return {@code 6 N + 12 n_layer T d}, N without {@link #lookupOnly()}
     */
    public double trainFlopsPerToken(int seqLen) {
        return 6.0 * (parameters - lookupOnly) + 12.0 * nLayer * seqLen * nEmbd;
    }

    /**
     * Training FLOPs of a step.
     *
     * @param batch windows per step
     * @param seqLen tokens per window
     * @return FLOPs
     */
    public double trainFlopsPerStep(int batch, int seqLen) {
        return trainFlopsPerToken(seqLen) * batch * seqLen;
    }
}
