package dev.retain.train.plugin;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A strategy's contribution to the one training loop, through typed points rather than by
 * overwriting the trainer's fields. Every hook has a no-op default. A named strategy is a preset
 * list of plugins: {@code ewc+replay} is the EWC plugin and the replay plugin together.
 *
 * <p>Order of hooks per domain: {@link #beforeDomain}, then per optimizer step, per micro-batch
 * {@link #replayRows} and {@link #replayWindows} while it is built and {@link #lossTerm} after its
 * forward pass, then {@link #afterBackward}, {@link #afterStep}; then {@link #afterDomain}. In a
 * task-free run the strategy's plugins get {@link #beforeDomain} once, at the stream's start, and
 * {@link #consolidate} where the run consolidates instead of {@link #afterDomain}.
 * Every hook is called on the plugins in list order: the drift map
 * (it reads the parameters at a domain's end before any strategy's state is built there), the
 * strategy's plugins, then the trainer's other lifecycle plugins (stage export, stage
 * evaluation, evaluation and checkpoint cadence, loss curve), so at a domain's end EWC's Fisher
 * is estimated before the stage model is exported and evaluated. Stateful plugins save and restore
 * their own state with the checkpoint. A plugin asks the loop to stop, save or evaluate through
 * {@link TrainContext#control()}.
 */
public interface Plugin {

    /** @return a short name, e.g. {@code ewc} */
    String name();

    /**
     * Called when a domain starts (not again when resuming inside it).
     *
     * @param ctx the run
     */
    default void beforeDomain(TrainContext ctx) {}

    /**
     * How many windows this plugin replays into the micro-batch being built ({@link
     * #replayWindows} is asked for at most that many); with {@code replay-mode replace} they take
     * that share of the batch, with {@code add} they come on top of it. The plugin decides from
     * its own settings and the batch's shape ({@link TrainContext#batchSize()}, {@link
     * TrainContext#gradAccum()}).
     *
     * @param ctx the run
     * @param micro the micro-batch of the step, 0 to {@code grad-accum - 1}
     * @return windows for this micro-batch, 0 for none
     */
    default int replayRows(TrainContext ctx, int micro) {
        return 0;
    }

    /**
     * Supplies windows from memory to mix into the micro-batch being built (one forward pass for
     * new and old windows together).
     *
     * @param ctx the run
     * @param rows how many windows the batch has room for
     * @param dst the batch's token buffer, row-major {@code [rows, seqLen]}
     * @param offset where in dst the first supplied window goes
     * @return how many windows were written (0..rows)
     */
    default int replayWindows(TrainContext ctx, int rows, long[] dst, int offset) {
        return 0;
    }

    /**
     * A term to add to a micro-batch's loss before its backward pass, computed from the model's
     * output on it (distillation); its gradient flows into the model's.
     *
     * @param ctx the run
     * @param input the micro-batch's token ids {@code [rows, seqLen]}: new windows first, the
     *     last {@code replayed} rows replayed ones
     * @param logits the model's logits for it {@code [rows, seqLen, vocab]}, in the graph
     * @param replayed how many of the last rows are replayed windows
     * @return a scalar, or null for none
     */
    default NDArray lossTerm(TrainContext ctx, NDArray input, NDArray logits, int replayed) {
        return null;
    }

    /**
     * Called after all micro-batches' backward passes, before clipping and the update: the place to
     * add gradient terms of a penalty.
     *
     * @param ctx the run
     * @param scope manager for temporaries of this step
     * @return the value of the added penalty (for logging), or 0
     */
    default double afterBackward(TrainContext ctx, NDManager scope) {
        return 0;
    }

    /**
     * Called after the optimizer update.
     *
     * @param ctx the run (its step counters already count this step)
     * @param step what the step did, with the start offsets of the new windows it trained on
     */
    default void afterStep(TrainContext ctx, StepResult step) {}

    /**
     * Called after a domain's last step, before the stage is evaluated.
     *
     * @param ctx the run
     */
    default void afterDomain(TrainContext ctx) {}

    /**
     * In a task-free run ({@code task-free}: one stream, no domain boundaries told), called
     * instead of {@link #afterDomain} where the run consolidates ({@code consolidate}: at a
     * plateau of the training loss, or every N tokens), after that step's {@link #afterStep}:
     * the strategy does there what it does at a domain's end, with the windows given as the data
     * just learned (EWC: its Fisher over them; LwF: the teacher becomes the model as it is now).
     * Not called in a run with domains.
     *
     * @param ctx the run
     * @param windows the recent and hard windows' tokens, each {@code seqLen} long
     */
    default void consolidate(TrainContext ctx, java.util.List<long[]> windows) {}

    /**
     * Writes the plugin's state into a checkpoint folder.
     *
     * @param dir the folder (exists)
     * @throws IOException when writing fails
     */
    default void saveState(Path dir) throws IOException {}

    /**
     * Restores the state written by {@link #saveState}.
     *
     * @param dir the folder
     * @param ctx the run
     * @throws IOException when reading fails
     */
    default void loadState(Path dir, TrainContext ctx) throws IOException {}
}
