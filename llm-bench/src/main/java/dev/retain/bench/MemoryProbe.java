package dev.retain.bench;

import dev.retain.core.util.ResidentMemory;
import dev.retain.train.ContinualTrainer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The benchmark's resident-memory phase: samples over {@code rss-steps} optimizer steps. */
final class MemoryProbe {

    private MemoryProbe() {}

    /**
     * Measures resident memory over many steps of one trainer: does anything grow with the step
     * count?
     *
     * @param bench the benchmark (settings, report, progress)
     * @param strategy the trainer's strategy, for the report
     * @param trainer the trainer
     */
    static void run(Bench bench, String strategy, ContinualTrainer trainer) {
        BenchSpec spec = bench.spec();
        ObjectNode root = bench.root();
        ObjectNode m = root.putObject("memory");
        int n = spec.rssSteps();
        m.put("strategy", strategy);
        m.put("rss_steps", n);
        if (n == 0) {
            m.putNull("growth");
            m.put("peak_rss_bytes", ResidentMemory.processPeakBytes());
            return;
        }
        int early = spec.rssEarlyStep();
        int every = Math.max(1, n / 20);
        bench.say("memory: %d %s steps (resident memory at step %d and %d)", n, strategy, early,
                n);
        ArrayNode samples = m.putArray("samples");
        long rssEarly = -1;
        double[] secs = new double[n];
        long t0 = System.nanoTime();
        for (int i = 1; i <= n; i++) {
            secs[i - 1] = TrainerSteps.time(trainer, 1)[0];
            if (i == early) {
                rssEarly = ResidentMemory.currentBytes();
            }
            if (i % every == 0 || i == early || i == n) {
                Runtime rt = Runtime.getRuntime();
                ArrayNode s = samples.addArray();
                s.add(i);
                s.add(ResidentMemory.currentBytes());
                s.add(rt.totalMemory() - rt.freeMemory());
            }
            if (bench.verbose() && (System.nanoTime() - t0) > 30e9) {
                bench.say("memory: step %d/%d, resident %.0f MB", i, n,
                        ResidentMemory.currentBytes() / 1e6);
                t0 = System.nanoTime();
            }
        }
        long rssLate = ResidentMemory.currentBytes();
        m.put("early_step", early);
        m.put("rss_early_bytes", rssEarly);
        m.put("rss_late_bytes", rssLate);
        m.put("growth", Stats.ratio(rssLate - rssEarly, rssEarly));
        m.put("peak_rss_bytes", ResidentMemory.processPeakBytes());
        m.put("step_seconds_median", Stats.median(secs));
        m.put("step_seconds_p90", Stats.quantile(secs, 0.9));
    }
}
