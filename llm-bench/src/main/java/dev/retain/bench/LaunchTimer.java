package dev.retain.bench;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Wall time of a command run as a child process, start to exit (e.g. {@code retain info}). */
public final class LaunchTimer {

    private static final long LIMIT_SECONDS = 120;

    private LaunchTimer() {}

    /**
     * Runs a command several times, its output discarded.
     *
     * @param command the program and its arguments
     * @param runs how many times
     * @return the wall time of each run, seconds
     * @throws IOException when it cannot start, fails or runs past two minutes
     */
    public static double[] time(List<String> command, int runs) throws IOException {
        double[] out = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try {
                if (!p.waitFor(LIMIT_SECONDS, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IOException(String.join(" ", command) + ": still running after "
                            + LIMIT_SECONDS + " s");
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            out[i] = (System.nanoTime() - t0) / 1e9;
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + ": exit code " + p.exitValue());
            }
        }
        return out;
    }
}
