package dev.retain.train;

import dev.retain.core.Engines;
import dev.retain.core.model.CausalLm;
import dev.retain.core.model.LmLoss;
import dev.retain.train.lm.WindowStream;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import java.util.List;

/**
 * The micro-batches of a {@link ContinualTrainer} step: each one's windows (replayed ones from the
 * plugins, new ones from the domain's stream), then forward, the next-token loss plus the plugins'
 * loss terms (distillation), and backward. How many new windows a micro-batch gets is decided
 * here, once: the rest of the batch ({@code replay-mode replace}) or a full batch ({@code add}).
 */
final class MicroBatch {

    /**
     * What one micro-batch holds.
     *
     * @param fresh new windows (its first rows)
     * @param replayed replayed windows (its last rows)
     */
    record Rows(int fresh, int replayed) {

        /** @return all its windows */
        int total() {
            return fresh + replayed;
        }
    }

    private final CausalLm lm;
    private final List<Plugin> plugins;
    private final TrainContext ctx;
    private final int seqLen;
    private final int batchSize;
    private final int gradAccum;
    private final boolean add;

    /**
     * @param lm the model being trained
     * @param plugins every plugin, in hook order
     * @param ctx what the plugins see
     * @param seqLen tokens per window
     * @param batchSize windows per micro-batch ({@code batch-size})
     * @param gradAccum micro-batches per step ({@code grad-accum})
     * @param add whether replayed windows come on top of a full batch ({@code replay-mode add})
     */
    MicroBatch(CausalLm lm, List<Plugin> plugins, TrainContext ctx, int seqLen, int batchSize,
            int gradAccum, boolean add) {
        this.lm = lm;
        this.plugins = plugins;
        this.ctx = ctx;
        this.seqLen = seqLen;
        this.batchSize = batchSize;
        this.gradAccum = gradAccum;
        this.add = add;
    }

    /** @return micro-batches per step */
    int count() {
        return gradAccum;
    }

    /**
     * Fills {@code losses.ids} with one micro-batch: replayed windows from the plugins at the
     * tail (each plugin's {@link Plugin#replayRows} in plugin order), new windows of the domain's
     * stream before them.
     *
     * @param micro the micro-batch of the step, 0 to {@code grad-accum - 1}
     * @param stream the domain's windows
     * @param losses where the ids go and the new windows' starts are noted
     * @return how many rows are new and how many replayed
     */
    Rows fill(int micro, WindowStream stream, StepLosses losses) {
        int[] want = new int[plugins.size()];
        int wantReplay = 0;
        for (int i = 0; i < want.length; i++) {
            want[i] = plugins.get(i).replayRows(ctx, micro);
            wantReplay += want[i];
        }
        long[] rep = new long[wantReplay * seqLen];
        int got = 0;
        for (int i = 0; i < want.length; i++) {
            int n = Math.min(want[i], wantReplay - got);
            got += n > 0 ? plugins.get(i).replayWindows(ctx, n, rep, got * seqLen) : 0;
        }
        Rows rows = new Rows(add ? batchSize : batchSize - got, got);
        losses.ids = new long[rows.total() * seqLen];
        System.arraycopy(rep, 0, losses.ids, rows.fresh() * seqLen, got * seqLen);
        for (int r = 0; r < rows.fresh(); r++) {
            long s = stream.next();
            stream.copy(s, losses.ids, r * seqLen);
            losses.started(s);
        }
        return rows;
    }

    /**
     * Forward, per-token loss, the plugins' loss terms, backward of one micro-batch (its tensors
     * freed at its end).
     *
     * @param scope the step's manager
     * @param losses the step's losses (the micro-batch's ids; its loss terms are added)
     * @param rows what the micro-batch holds
     * @return each row's mean next-token loss
     */
    float[] forwardBackward(NDManager scope, StepLosses losses, Rows rows) {
        try (GradientCollector gc = Engines.pytorch().newGradientCollector();
                NDManager micro = scope.newSubManager()) {
            long[] ids = losses.ids;
            NDArray input = micro.create(ids, new Shape(rows.total(), seqLen));
            NDArray logits = lm.logits(input, true);
            NDArray perRow = LmLoss.tokenNll(logits, input).mean(new int[] {1});
            NDArray loss = perRow.mean();
            for (Plugin p : plugins) {
                NDArray term = p.lossTerm(ctx, input, logits, rows.replayed());
                if (term != null) {
                    losses.addTerm(term.getFloat() / gradAccum);
                    loss = loss.add(term);
                }
            }
            lm.backward(gc, loss.div(gradAccum)); // gradients in float32 at any precision
            return perRow.toFloatArray();
        }
    }
}
