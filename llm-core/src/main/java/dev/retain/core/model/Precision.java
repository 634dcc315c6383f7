package dev.retain.core.model;

import java.util.Locale;

/**
 * The number format a model computes in ({@code --precision}).
 *
 * <p>{@link #BF16} is mixed precision as PyTorch's autocast does it for training: the forward and
 * backward passes run in bfloat16 (a bfloat16 copy of the model, {@link CausalLm#usePrecision});
 * the parameters the optimizer updates (the master weights), their gradients, AdamW's moments,
 * gradient clipping, the loss and its reduction, the log-softmax of perplexity, EWC's penalty and
 * the Fisher stay float32.
 */
public enum Precision {
    /** float32 everywhere. */
    FP32,
    /** bfloat16 products with float32 master weights, loss and optimizer. */
    BF16;

    /** @return its name on the command line and in files: {@code fp32} or {@code bf16} */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * @param label {@code fp32} or {@code bf16}
     * @return the precision
     * @throws IllegalArgumentException for anything else
     */
    public static Precision of(String label) {
        return valueOf(label.toUpperCase(Locale.ROOT));
    }
}
