package dev.retain.core.model;

/** What a TorchScript causal LM's {@code forward(input_ids)} returns. */
public enum OutputForm {
    /** The logits tensor {@code [batch, time, vocab]} alone. */
    LOGITS,
    /**
     * A tuple whose first element is the logits, as Hugging Face models traced with {@code
     * torchscript=True} return (the rest, such as past key values, is ignored).
     */
    HF_TUPLE;

    /**
     * The name used in reports and {@code config.json} ({@code logits}, {@code hf-tuple}).
     *
     * @return the external name
     */
    public String label() {
        return this == LOGITS ? "logits" : "hf-tuple";
    }
}
