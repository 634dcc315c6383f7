package dev.retain.train;

import dev.retain.core.util.Json;
import dev.retain.eval.EvalResult;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A run's {@code results.json} ({@code docs/results-schema.md}, schema {@code retain.results/1}),
 * built up as the run goes: the base row, one row per stage, curves, drift, costs.
 */
public final class RunResults {

    /** The highest peak resident size seen just before a {@link #resetPeakRss()} (-1: none). */
    private static final AtomicLong PEAK_BEFORE_RESETS = new AtomicLong(-1);

    /** The schema identifier written into the file. */
    public static final String SCHEMA = "retain.results/1";

    private final ObjectNode root;

    private RunResults(ObjectNode root) {
        this.root = root;
    }

    /**
     * Starts the results of a language-model run.
     *
     * @param name the run's name
     * @param strategy its strategy
     * @param config the settings as a JSON object
     * @param model facts about the model
     * @param tasks domain names in training order
     * @return the results
     */
    public static RunResults start(String name, String strategy, ObjectNode config,
            ObjectNode model, List<String> tasks) {
        ObjectNode r = Json.object();
        r.put("schema", SCHEMA);
        r.put("kind", "lm");
        r.put("status", "running");
        ObjectNode run = r.putObject("run");
        run.put("name", name);
        run.put("strategy", strategy);
        run.put("started", Instant.now().toString());
        run.putNull("finished");
        r.set("config", config);
        r.set("environment", environment());
        r.set("model", model);
        ArrayNode t = r.putArray("tasks");
        tasks.forEach(t::add);
        ObjectNode scores = r.putObject("scores");
        for (String m : new String[] {"perplexity", "mean_nll", "token_accuracy"}) {
            ObjectNode s = scores.putObject(m);
            s.put("higher_is_better", m.equals("token_accuracy"));
            s.putArray("rows");
        }
        r.putArray("stages");
        r.putArray("boundaries");
        r.putArray("curves");
        ObjectNode drift = r.putObject("drift");
        drift.put("weighting", "fisher");
        drift.putArray("rows");
        r.putNull("peak_rss_bytes");
        r.put("peak_rss_scope", "run");
        r.putArray("losses");
        return new RunResults(r);
    }

    /**
     * Reads results back (resume).
     *
     * @param node the JSON
     * @return the results
     */
    public static RunResults of(JsonNode node) {
        return new RunResults(((ObjectNode) node).deepCopy());
    }

    /** @return facts about the machine and the libraries */
    public static ObjectNode environment() {
        ObjectNode e = Json.object();
        e.put("java", System.getProperty("java.version"));
        e.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        e.put("cpus", Runtime.getRuntime().availableProcessors());
        e.put("djl", ai.djl.engine.Engine.getDjlVersion());
        try {
            e.put("libtorch", ai.djl.engine.Engine.getEngine("PyTorch").getVersion());
        } catch (RuntimeException ex) {
            e.putNull("libtorch");
        }
        e.put("vm", ManagementFactory.getRuntimeMXBean().getVmName());
        return e;
    }

    /**
     * Appends a score row (the base row first, then one per stage).
     *
     * @param results one result per domain, in task order
     */
    public void addRow(List<EvalResult> results) {
        ObjectNode scores = (ObjectNode) root.get("scores");
        ArrayNode p = ((ArrayNode) scores.get("perplexity").get("rows")).addArray();
        ArrayNode n = ((ArrayNode) scores.get("mean_nll").get("rows")).addArray();
        ArrayNode a = ((ArrayNode) scores.get("token_accuracy").get("rows")).addArray();
        for (EvalResult r : results) {
            p.add(r.perplexity());
            n.add(r.meanNll());
            a.add(r.tokenAccuracy());
        }
    }

    /** @return score rows written so far (base row included) */
    public int rows() {
        return root.get("scores").get("perplexity").get("rows").size();
    }

    /**
     * Records a finished stage's costs.
     *
     * @param stage the stats
     */
    public void addStage(ObjectNode stage) {
        ((ArrayNode) root.get("stages")).add(stage);
    }

    /**
     * Records the global step at which a stage starts.
     *
     * @param step the step
     */
    public void addBoundary(long step) {
        ((ArrayNode) root.get("boundaries")).add(step);
    }

    /** @return boundaries recorded so far */
    public int boundaries() {
        return root.get("boundaries").size();
    }

    /**
     * Records a continual-evaluation point.
     *
     * @param step global step
     * @param stage the stage being trained
     * @param r the result on one domain's valid split
     */
    public void addCurve(long step, int stage, EvalResult r) {
        ObjectNode c = ((ArrayNode) root.get("curves")).addObject();
        c.put("step", step);
        c.put("stage", stage);
        c.put("task", r.domain());
        c.put("perplexity", r.perplexity());
        c.put("mean_nll", r.meanNll());
        c.put("token_accuracy", r.tokenAccuracy());
    }

    /**
     * Records where the parameters moved during a stage.
     *
     * @param stage the stage
     * @param perTensor tensor name to {@code sum F (theta_k - theta_{k-1})^2}
     * @param groups tensor name to its layer group
     */
    public void addDrift(int stage, Map<String, Double> perTensor, Map<String, String> groups) {
        ArrayNode rows = (ArrayNode) root.get("drift").get("rows");
        perTensor.forEach((t, v) -> {
            ObjectNode o = rows.addObject();
            o.put("stage", stage);
            o.put("tensor", t);
            o.put("group", groups.get(t));
            o.put("value", v);
        });
    }

    /**
     * Records a sampled training loss.
     *
     * @param step global step
     * @param loss total loss
     * @param newLoss loss on new windows
     * @param replay loss on replayed windows (NaN when none)
     * @param ewc the EWC penalty
     */
    public void addLoss(long step, double loss, double newLoss, double replay, double ewc) {
        ObjectNode o = ((ArrayNode) root.get("losses")).addObject();
        o.put("step", step);
        o.put("loss", loss);
        o.put("new", newLoss);
        if (Double.isNaN(replay)) {
            o.putNull("replay");
        } else {
            o.put("replay", replay);
        }
        o.put("ewc", ewc);
    }

    /** Marks the run complete. */
    public void complete() {
        root.put("status", "complete");
        ((ObjectNode) root.get("run")).put("finished", Instant.now().toString());
    }

    /**
     * Records the peak resident memory seen so far.
     *
     * @param bytes the peak
     */
    public void peakRss(long bytes) {
        if (bytes > 0) {
            root.put("peak_rss_bytes", Math.max(bytes, root.path("peak_rss_bytes").asLong(0)));
        }
    }

    /** @return the JSON (live) */
    public ObjectNode json() {
        return root;
    }

    /**
     * Writes {@code results.json} atomically.
     *
     * @param runDir the run folder
     * @throws IOException when writing fails
     */
    public void write(Path runDir) throws IOException {
        Json.write(runDir.resolve("results.json"), root);
    }

    /**
     * Says from when {@code peak_rss_bytes} is measured: {@code "run"} when the kernel's peak
     * counter was reset as this run (and every earlier session of it, before a resume) started,
     * {@code "process"} when a reset failed, so that the peak may include whatever ran before in
     * the same process (for example earlier variants of an experiment).
     *
     * @param reset what {@link #resetPeakRss()} returned as this session of the run started
     */
    public void peakRssScope(boolean reset) {
        boolean before = !"process".equals(root.path("peak_rss_scope").asText("run"));
        root.put("peak_rss_scope", reset && before ? "run" : "process");
    }

    /**
     * Resets this process's peak resident set size (VmHWM) to its current resident size, so that
     * {@link #peakRssBytes()} measures the peak from now on rather than since the JVM started. The
     * experiment runner trains every variant in one JVM; without the reset each later variant
     * would report the highest peak of those before it. Linux only: it writes {@code 5} to
     * {@code /proc/self/clear_refs} (see proc(5), "clear_refs", since Linux 4.0).
     *
     * <p>The peak before each reset is remembered, so {@link #processPeakRssBytes()} still gives
     * the process's own peak.
     *
     * @return true when the counter was reset; false where the file is missing or not writable
     *     (other systems, restricted containers), in which case the peak stays the process's
     */
    public static boolean resetPeakRss() {
        PEAK_BEFORE_RESETS.accumulateAndGet(peakRssBytes(), Math::max);
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5", StandardOpenOption.WRITE);
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    /**
     * Peak resident set size of this process (VmHWM), or -1 where /proc is missing: the peak since
     * the JVM started or since the last {@link #resetPeakRss()}.
     *
     * @return bytes
     */
    public static long peakRssBytes() {
        return procStatus("VmHWM:");
    }

    /**
     * Peak resident set size of this process since the JVM started, across {@link
     * #resetPeakRss()} calls, or -1 where /proc is missing.
     *
     * @return bytes
     */
    public static long processPeakRssBytes() {
        long now = peakRssBytes();
        return now < 0 ? now : Math.max(now, PEAK_BEFORE_RESETS.get());
    }

    /**
     * Current resident set size of this process (VmRSS), or -1 where /proc is missing.
     *
     * @return bytes
     */
    public static long rssBytes() {
        return procStatus("VmRSS:");
    }

    private static long procStatus(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
