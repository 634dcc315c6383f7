package dev.retain.eval.forgotten;

/**
 * Receives the per-token numbers of the windows an evaluation scores, in window order ({@link
 * dev.retain.eval.Evaluator#evaluate(dev.retain.core.model.CausalLm,
 * dev.retain.core.text.TokenFile, String, String, dev.retain.eval.Evaluator.Options,
 * WindowSink)}). The evaluator computes these numbers anyway; it hands them over only while the
 * sink wants more, so a bounded sink costs the evaluation nothing after its last window.
 */
public interface WindowSink {

    /** @return whether the next window is wanted */
    boolean wantsMore();

    /**
     * Takes one window.
     *
     * @param window its tokens, NLLs and argmaxes (the arrays are the sink's to keep)
     */
    void accept(WindowDetail window);
}
