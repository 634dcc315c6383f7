package dev.retain.train;

import dev.retain.core.UserError;
import dev.retain.eval.EvalResult;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Decides when a run has diverged ({@link Divergence}): a step whose loss or gradient norm is not
 * finite, a loss above {@code divergence-factor} times the loss of the domain's first step (taken
 * before any update on the domain, kept in the checkpoint), or an evaluation whose perplexity is
 * not finite (so that no score is ever written as Infinity).
 */
final class DivergenceGuard {

    private final TrainState s;
    private final List<String> domains;
    private final double factor;
    private final Supplier<String> checkpoint;
    private final Path runDir;

    /**
     * @param state where the run stands (read at each check)
     * @param domains the domains' names, in training order
     * @param factor {@code divergence-factor}: the loss bound as a multiple of the domain's first
     *     step's loss; 0 = only a non-finite loss
     * @param checkpoint the newest checkpoint for messages ({@code step N} or {@code none})
     * @param runDir the run folder, for messages
     */
    DivergenceGuard(TrainState state, List<String> domains, double factor,
            Supplier<String> checkpoint, Path runDir) {
        this.s = state;
        this.domains = domains;
        this.factor = factor;
        this.checkpoint = checkpoint;
        this.runDir = runDir;
    }

    /**
     * Checks a step's loss (new and replayed tokens, without penalties) before the update.
     *
     * @param loss the step's mean next-token loss
     * @throws Divergence when it is not finite or above the bound
     */
    void loss(double loss) {
        if (!Double.isFinite(loss)) {
            throw atStep("loss " + loss, loss);
        }
        if (Double.isNaN(s.firstLoss)) {
            s.firstLoss = loss;
            return;
        }
        if (factor > 0 && loss > factor * s.firstLoss) {
            throw atStep(String.format(Locale.ROOT, "loss %s > %s x %s (the loss of the"
                    + " domain's first step; --divergence-factor)", Divergence.number(loss),
                    Divergence.number(factor), Divergence.number(s.firstLoss)), loss);
        }
    }

    /**
     * Checks the gradient norm before clipping.
     *
     * @param norm the global L2 norm
     */
    void gradNorm(double norm) {
        if (!Double.isFinite(norm)) {
            throw atStep("gradient norm " + norm, norm);
        }
    }

    /**
     * Checks an evaluation's perplexities.
     *
     * @param rows one result per domain
     * @return the same rows, all finite
     * @throws Divergence when one is not finite (a trained model)
     * @throws UserError when one of the base model's is not finite
     */
    List<EvalResult> evaluation(List<EvalResult> rows) {
        for (EvalResult r : rows) {
            if (!Double.isFinite(r.perplexity())) {
                String what = String.format(Locale.ROOT, "perplexity %s on %s (%s split)",
                        Divergence.number(r.perplexity()), r.domain(), r.split());
                if (s.globalStep == 0) {
                    throw new UserError("the base model's " + what + " is not finite; the model"
                            + " file is broken or does not fit the tokenizer: check --model and"
                            + " --tokenizer");
                }
                throw new Divergence(s.globalStep, s.stage, domain(), what,
                        r.perplexity(), String.format(Locale.ROOT, "training diverged: the"
                                + " evaluation after step %d (domain %s) gave %s; %s",
                                s.globalStep, domain(), what, advice()));
            }
        }
        return rows;
    }

    private Divergence atStep(String what, double value) {
        return new Divergence(s.globalStep + 1, s.stage, domain(), what, value,
                String.format(Locale.ROOT, "training diverged at step %d (domain %s, its step"
                        + " %d): %s; %s", s.globalStep + 1, domain(), s.stepInStage + 1, what,
                        advice()));
    }

    private String domain() {
        return domains.get(Math.min(s.stage, domains.size() - 1));
    }

    private String advice() {
        String ckpt = checkpoint.get();
        return "stopped without saving, results.json says diverged, " + (ckpt.equals("none")
                ? "there is no checkpoint yet" : "the last good checkpoint (" + ckpt + ") is kept")
                + " in " + runDir + "; start again with a lower --learning-rate or"
                + " --max-grad-norm";
    }
}
