package dev.retain.cli;

import dev.retain.core.util.TemporaryFiles;
import dev.retain.train.ContinualTrainer;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Ctrl-C (SIGINT) and SIGTERM.
 *
 * <p>Every command ({@link #anyCommand}, installed by {@link Main}): the work is abandoned, its
 * temporary files are removed ({@link TemporaryFiles#removeAll}: what it was writing is
 * not published, what it had published is complete), one line says so, and the JVM exits with
 * 128 + the signal (130, 143).
 *
 * <p>A command that trains (an instance of this class) saves its work instead. Installed before
 * any work starts, so that a signal at any point (loading, the base evaluation, a step, between
 * the variants of an experiment) ends the same way: the trainer that runs, or the next one to
 * run, saves a checkpoint and returns, the command prints one line ({@link #printStopped}), and
 * only then does the JVM exit (the shutdown hook waits for {@link #close}).
 */
final class StopSignal implements AutoCloseable {

    /** The exit code of a stopped command (128 + SIGINT, as shells report it). */
    static final int EXIT_CODE = 130;

    /** Instances installed now: while one is, it answers the signal and the plain hook stays out. */
    private static final AtomicInteger SAVING = new AtomicInteger();
    private static volatile boolean abandoned;

    /**
     * Installs the answer to a signal for any command: remove the temporary files, print one line
     * (unless a command that trains answers it: {@link #StopSignal}).
     *
     * @param command the command, for the line (e.g. {@code retain prepare})
     * @param err where the line goes
     * @return uninstalls it (before a normal exit)
     */
    static AutoCloseable anyCommand(String command, PrintStream err) {
        Thread hook = new Thread(() -> {
            if (SAVING.get() > 0) {
                return; // it saves a checkpoint, says how to continue, and ends the JVM then
            }
            abandoned = true;
            int n = TemporaryFiles.removeAll();
            err.println(command + ": stopped by a signal; " + (n == 0 ? "nothing was being"
                    + " written" : "what it was writing is removed (" + n + " temporary file"
                    + (n == 1 ? "" : "s") + ")") + "; files it had finished are complete");
            err.flush();
        }, "retain-signal");
        Runtime.getRuntime().addShutdownHook(hook);
        return () -> {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down: the hook runs
            }
        };
    }

    /**
     * @return whether a signal abandoned the command's work: what fails after it (a file removed
     *     under a writer) is no error to report
     */
    static boolean abandoned() {
        return abandoned;
    }

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
        SAVING.incrementAndGet();
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
        SAVING.decrementAndGet();
        done.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down: the hook runs, and returns now
        }
    }
}
