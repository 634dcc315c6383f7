package dev.retain.cli;

import dev.retain.train.ContinualTrainer;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C (SIGINT) and SIGTERM for a command that trains. Installed before any work starts, so
 * that a signal at any point (loading, the base evaluation, a step, between the variants of an
 * experiment) ends the same way: the trainer that runs, or the next one to run, saves a checkpoint
 * and returns, the command prints one line ({@link #printStopped}), and only then does the JVM
 * exit (the shutdown hook waits for {@link #close}).
 */
final class StopSignal implements AutoCloseable {

    /** The exit code of a stopped command (128 + SIGINT, as shells report it). */
    static final int EXIT_CODE = 130;

    private final String command;
    private final String continueWith;
    private final CountDownLatch done = new CountDownLatch(1);
    private final Thread hook;
    private volatile boolean stopped;
    private volatile ContinualTrainer current;
    private final List<Runnable> actions = new CopyOnWriteArrayList<>();

    /**
     * Installs the handling.
     *
     * @param command the command, for the line (e.g. {@code retain train})
     * @param continueWith the command line that continues the work
     */
    StopSignal(String command, String continueWith) {
        this.command = command;
        this.continueWith = continueWith;
        this.hook = new Thread(this::onSignal, "retain-stop");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    private void onSignal() {
        stopped = true;
        ContinualTrainer t = current;
        if (t != null) {
            t.requestStop();
        }
        actions.forEach(Runnable::run);
        try {
            done.await(600, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Runs a trainer; a signal before or during it makes it save a checkpoint and return.
     *
     * @param t the trainer
     * @return how it ended
     * @throws IOException when saving fails
     */
    ContinualTrainer.Outcome run(ContinualTrainer t) throws IOException {
        current = t;
        if (stopped) {
            t.requestStop();
        }
        try {
            return t.run();
        } finally {
            current = null;
        }
    }

    /**
     * Adds what else a signal does (e.g. pass it on to the processes this one started).
     *
     * @param action run once on the signal, before the command's work is waited for
     */
    void onStop(Runnable action) {
        actions.add(action);
    }

    /** @return whether a signal has come */
    boolean stopped() {
        return stopped;
    }

    /** Prints the one line of a stopped command: what to run to continue. */
    void printStopped() {
        System.err.println(command + ": stopped; checkpoint saved; continue with: "
                + continueWith);
    }

    /** Lets a waiting signal end the JVM, and uninstalls the handling. */
    @Override
    public void close() {
        done.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down: the hook runs, and returns now
        }
    }
}
