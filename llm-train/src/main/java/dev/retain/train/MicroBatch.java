package dev.retain.train;

import dev.retain.core.Engines;
import dev.retain.core.model.LmLoss;
import dev.retain.train.plugin.Plugin;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

/**
 * One micro-batch of a {@link ContinualTrainer} step: its windows (new ones from the domain's
 * stream, replayed ones from the plugins), then forward, the next-token loss plus the plugins'
 * loss terms (distillation), and backward.
 */
final class MicroBatch {

    private MicroBatch() {}

    /**
     * Fills {@code losses.ids} with one micro-batch: replayed windows from the plugins at the
     * tail (each plugin's {@link Plugin#replayRows} in plugin order), new windows of the domain's
     * stream before them.
     *
     * @param t the trainer
     * @param losses where the ids go and the new windows' starts are noted
     * @return how many rows were replayed
     */
    static int fill(ContinualTrainer t, StepLosses losses) {
        int seqLen = t.in.seqLen;
        int wantReplay = t.plugins.stream().mapToInt(p -> p.replayRows(t.context)).sum();
        long[] rep = new long[wantReplay * seqLen];
        int got = 0;
        for (Plugin p : t.plugins) {
            int want = Math.min(p.replayRows(t.context), wantReplay - got);
            got += want > 0 ? p.replayWindows(t.context, want, rep, got * seqLen) : 0;
        }
        int fresh = t.cfg.newRows(got); // replace: the rest of the batch; add: a full batch
        losses.ids = new long[(fresh + got) * seqLen];
        System.arraycopy(rep, 0, losses.ids, fresh * seqLen, got * seqLen);
        for (int r = 0; r < fresh; r++) {
            long s = t.state.stream.next();
            t.state.stream.copy(s, losses.ids, r * seqLen);
            losses.started(s);
        }
        return got;
    }

    /**
     * Forward, per-token loss, the plugins' loss terms, backward of one micro-batch (its tensors
     * freed at its end).
     *
     * @param t the trainer
     * @param scope the step's manager
     * @param losses the step's losses (the micro-batch's ids; its loss terms are added)
     * @param replayed how many of the last rows are replayed windows
     * @return each row's mean next-token loss
     */
    static float[] forwardBackward(ContinualTrainer t, NDManager scope, StepLosses losses,
            int replayed) {
        try (GradientCollector gc = Engines.pytorch().newGradientCollector();
                NDManager micro = scope.newSubManager()) {
            long[] ids = losses.ids;
            NDArray input = micro.create(ids, new Shape(ids.length / t.in.seqLen, t.in.seqLen));
            NDArray logits = t.in.lm.logits(input, true);
            NDArray rows = LmLoss.tokenNll(logits, input).mean(new int[] {1});
            NDArray loss = rows.mean();
            for (Plugin p : t.plugins) {
                NDArray term = p.lossTerm(t.context, input, logits, replayed);
                if (term != null) {
                    losses.addTerm(term.getFloat() / t.cfg.gradAccum());
                    loss = loss.add(term);
                }
            }
            gc.backward(loss.div(t.cfg.gradAccum()));
            return rows.toFloatArray();
        }
    }
}
