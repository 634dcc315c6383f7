package dev.retain.cli;

import dev.retain.core.Engines;
import dev.retain.train.ContinualTrainer;
import dev.retain.experiment.Experiment;
import dev.retain.experiment.ExperimentRunner;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * {@code retain run --jobs N}: the experiment's variants in up to N child processes at once, each
 * {@code retain run FILE --variant I} with its own share of the cores ({@code --threads}) or its
 * own GPU ({@code CUDA_VISIBLE_DEVICES}). The base model is evaluated here first, so the children
 * read it from {@code base-eval.json}. Each child's output lines reach stderr prefixed by its
 * variant's name. A signal here is passed on: every child saves a checkpoint and stops, and the
 * experiment can be continued with the same command.
 */
final class VariantJobs {

    /** Set in a child's environment (to its variant's name): it prints only its own lines. */
    static final String JOB_ENV = "RETAIN_JOB";

    private VariantJobs() {}

    /**
     * How the variants are spread.
     *
     * @param jobs processes at once
     * @param threadsPerJob libtorch threads of each
     * @param devices GPU ids (one variant per id at a time), or empty for CPU
     */
    record Spread(int jobs, int threadsPerJob, List<String> devices) {}

    /** A child's end: the variant's outcome, or null when it failed (its exit code). */
    record Ended(ExperimentRunner.VariantRun run, int exitCode) {}

    /**
     * Runs the chosen variants that have not ended in child processes.
     *
     * @param e the experiment
     * @param chosen the indices of the variants
     * @param spread how many at once, threads, devices
     * @param progress let the children show progress
     * @param stop the signal handling (passed on to the children)
     * @return one entry per chosen variant, in experiment order
     * @throws IOException when the base evaluation cannot be written
     * @throws InterruptedException when interrupted while waiting
     */
    static List<Ended> run(Experiment e, SortedSet<Integer> chosen, Spread spread,
            boolean progress, StopSignal stop) throws IOException, InterruptedException {
        Map<Integer, Ended> ended = new LinkedHashMap<>();
        Deque<Integer> queue = new ArrayDeque<>();
        for (ExperimentRunner.VariantStatus s : ExperimentRunner.statuses(e)) {
            if (!chosen.contains(s.index())) {
                continue;
            }
            if (s.ended()) {
                System.err.printf("[%s] %s before, skipped (%s)%n", s.variant().name(),
                        s.state().equals("done") ? "finished" : "diverged", s.dir());
                ended.put(s.index(), new Ended(new ExperimentRunner.VariantRun(s.variant(),
                        s.dir(), true, s.state().equals("done")
                                ? ContinualTrainer.Outcome.COMPLETE
                                : ContinualTrainer.Outcome.DIVERGED), 0));
            } else {
                queue.add(s.index());
            }
        }
        // The base row as a serial run with the children's threads would compute it.
        Engines.threads(spread.threadsPerJob());
        ExperimentRunner.evaluateBase(e, new java.util.TreeSet<>(queue), progress);
        Map<Process, Integer> active = new LinkedHashMap<>();
        Map<Process, String> deviceOf = new LinkedHashMap<>();
        Deque<String> freeDevices = new ArrayDeque<>(spread.devices());
        stop.onStop(() -> {
            synchronized (active) {
                active.keySet().forEach(Process::destroy); // SIGTERM: save and stop
            }
        });
        Map<String, Path> dirs = ExperimentRunner.folders(e);
        while (!queue.isEmpty() || !active.isEmpty()) {
            while (!queue.isEmpty() && active.size() < spread.jobs() && !stop.stopped()) {
                int i = queue.poll();
                String device = freeDevices.poll();
                Process p = start(e, i, spread.threadsPerJob(), device, progress);
                synchronized (active) {
                    active.put(p, i);
                }
                if (device != null) {
                    deviceOf.put(p, device);
                }
            }
            if (active.isEmpty()) {
                break; // stopped before the queue emptied
            }
            Process done = waitAny(active.keySet());
            int i;
            synchronized (active) {
                i = active.remove(done);
            }
            String device = deviceOf.remove(done);
            if (device != null) {
                freeDevices.add(device);
            }
            Experiment.Variant v = e.variants().get(i);
            int code = done.exitValue();
            ContinualTrainer.Outcome o = switch (code) {
                case 0 -> ContinualTrainer.Outcome.COMPLETE;
                case 3 -> ContinualTrainer.Outcome.DIVERGED;
                case 130, 143 -> ContinualTrainer.Outcome.INTERRUPTED;
                default -> null;
            };
            ended.put(i, new Ended(o == null ? null
                    : new ExperimentRunner.VariantRun(v, dirs.get(v.name()), false, o), code));
        }
        List<Ended> out = new ArrayList<>();
        for (int i : chosen) {
            Ended x = ended.get(i);
            if (x != null) {
                out.add(x);
            }
        }
        return out;
    }

    private static Process waitAny(Iterable<Process> running) throws InterruptedException {
        List<CompletableFuture<Process>> exits = new ArrayList<>();
        running.forEach(p -> exits.add(p.onExit()));
        try {
            return (Process) CompletableFuture.anyOf(exits.toArray(new CompletableFuture[0]))
                    .get();
        } catch (ExecutionException ex) {
            throw new IllegalStateException("waiting for a variant's process failed", ex);
        }
    }

    /** Starts {@code retain run FILE --out OUT --variant I} in a new JVM like this one. */
    private static Process start(Experiment e, int index, int threads, String device,
            boolean progress) throws IOException {
        String name = e.variants().get(index).name();
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-agentlib:jdwp") && !a.startsWith("-Xrunjdwp")) {
                cmd.add(a); // not the debugger's port, which only one process can have
            }
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "run", e.file().toString(), "--out", e.out().toString(), "--variant",
                String.valueOf(index), "--threads", String.valueOf(threads)));
        if (!progress) {
            cmd.add("--quiet");
        }
        cmd.add("--yes"); // the size was checked here
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put(JOB_ENV, name);
        if (device != null) {
            pb.environment().put("CUDA_VISIBLE_DEVICES", device);
        }
        String prefix = "[" + name + (device != null ? " gpu " + device : "") + "] ";
        Process p = pb.start();
        System.err.println(prefix + "started (process " + p.pid() + ", " + threads + " thread"
                + (threads == 1 ? "" : "s") + ")");
        p.getOutputStream().close();
        Thread t = new Thread(() -> relay(p.getInputStream(), prefix, System.err),
                "retain-job-" + index);
        t.setDaemon(true);
        t.start();
        return p;
    }

    /**
     * Copies a child's output line by line, each line (and each progress update ending in a
     * carriage return) prefixed with the variant's name.
     */
    static void relay(InputStream in, String prefix, PrintStream to) {
        byte[] buf = new byte[8192];
        java.io.ByteArrayOutputStream pending = new java.io.ByteArrayOutputStream();
        try (in) {
            int n;
            while ((n = in.read(buf)) > 0) {
                for (int k = 0; k < n; k++) {
                    byte b = buf[k];
                    if (b == '\n' || b == '\r') {
                        String line = pending.toString(StandardCharsets.UTF_8);
                        pending.reset();
                        synchronized (to) {
                            to.print(prefix + line + (char) b);
                            to.flush();
                        }
                    } else {
                        pending.write(b);
                    }
                }
            }
            if (pending.size() > 0) {
                synchronized (to) {
                    to.println(prefix + pending.toString(StandardCharsets.UTF_8));
                }
            }
        } catch (IOException ex) {
            // the child is gone; its exit code tells the rest
        }
    }
}
