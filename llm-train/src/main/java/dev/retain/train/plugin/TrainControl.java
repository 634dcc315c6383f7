package dev.retain.train.plugin;

/**
 * Requests from plugins (and from Ctrl-C) to the training loop, as flags rather than exceptions
 * (like Hugging Face's {@code TrainerControl}). The loop reads them after every optimizer step, in
 * this order: evaluate the valid splits, then stop (after saving a checkpoint), then save.
 * Evaluate and save are cleared once done; stop stays set.
 */
public final class TrainControl {

    private volatile boolean stop;
    private boolean save;
    private boolean evaluate;

    /** Asks the loop to save a checkpoint and return after the current step. Thread-safe. */
    public void requestStop() {
        stop = true;
    }

    /** Asks for a checkpoint after the current step. */
    public void requestSave() {
        save = true;
    }

    /** Asks for an evaluation of every domain's valid split after the current step. */
    public void requestEvaluate() {
        evaluate = true;
    }

    /** @return whether a stop was requested */
    public boolean stopRequested() {
        return stop;
    }

    /** @return whether a save was requested; clears the request */
    public boolean takeSave() {
        boolean s = save;
        save = false;
        return s;
    }

    /** @return whether an evaluation was requested; clears the request */
    public boolean takeEvaluate() {
        boolean e = evaluate;
        evaluate = false;
        return e;
    }
}
