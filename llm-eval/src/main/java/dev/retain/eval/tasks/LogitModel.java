package dev.retain.eval.tasks;

import dev.retain.core.model.CausalLm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/** What the task scorer needs of a causal LM: logits for a batch of token ids. */
public interface LogitModel {

    /** @return the manager to make each batch's sub-manager from */
    NDManager manager();

    /** @return the vocabulary size (the logits' last dimension) */
    int vocabSize();

    /** @return the context length: the most tokens one input may hold */
    int context();

    /**
     * @param ids int64 {@code [B, T]}
     * @return the logits {@code [B, T, V]}, without gradient
     */
    NDArray logits(NDArray ids);

    /**
     * @param lm a TorchScript causal LM
     * @return it as a logit model
     */
    static LogitModel of(CausalLm lm) {
        return new LogitModel() {
            @Override
            public NDManager manager() {
                return lm.manager();
            }

            @Override
            public int vocabSize() {
                return lm.vocabSize();
            }

            @Override
            public int context() {
                return lm.context();
            }

            @Override
            public NDArray logits(NDArray ids) {
                return lm.logits(ids, false);
            }
        };
    }
}
