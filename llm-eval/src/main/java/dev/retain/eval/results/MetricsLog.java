package dev.retain.eval.results;

import dev.retain.core.util.Json;
import dev.retain.eval.EvalResult;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code RUN_DIR/metrics.jsonl}: one JSON line per optimizer step and one per evaluated domain,
 * appended as the run goes, for plotting and monitoring while a long run trains. Each line is
 * written by one system call, so a killed process leaves whole lines. A checkpoint records the
 * file's length ({@code metrics_bytes} in its state.json); a resumed run cuts the file back to it
 * before it goes on, so the steps it repeats are not logged twice and none is missing.
 *
 * <pre>
 * {"type":"step","step":12,"stage":0,"domain":"computing","loss":4.18,"new":4.12,"replay":null,
 *  "penalty":0.0,"lr":0.002,"grad_norm":1.93,"tokens":256,"seconds":0.11,"tokens_per_second":2327}
 * {"type":"eval","step":20,"stage":0,"domain":"legal","split":"valid","perplexity":812.4,
 *  "mean_nll":6.70,"token_accuracy":0.12,"tokens":252}
 * </pre>
 *
 * Step lines give the objective ({@code loss} = data loss + {@code penalty}), the mean loss of new
 * and replayed windows ({@code replay} null when none were replayed), the learning rate, the
 * gradient norm before clipping, and the step's tokens and time. Eval lines come from the curve
 * evaluations ({@code split} valid) and the evaluation after each stage ({@code split} test;
 * step 0 with stage null is the base model). The file is opened for each line (a step takes far
 * longer), so nothing is held open and nothing waits in a buffer.
 */
public final class MetricsLog {

    /** The file's name in the run folder. */
    public static final String FILE = "metrics.jsonl";

    /** One object per line: no indentation. */
    private static final ObjectWriter LINE = Json.MAPPER.writer()
            .without(SerializationFeature.INDENT_OUTPUT);

    private final Path file;

    private MetricsLog(Path file) {
        this.file = file;
    }

    /**
     * Opens the log of a run for appending.
     *
     * @param runDir the run folder
     * @param keep bytes to keep: 0 for a new run, a checkpoint's {@code metrics_bytes} for a
     *     resumed one (lines after it are cut), negative to keep everything
     * @return the log
     * @throws IOException when the file cannot be opened
     */
    public static MetricsLog open(Path runDir, long keep) throws IOException {
        Path f = runDir.resolve(FILE);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE)) {
            if (keep >= 0 && ch.size() > keep) {
                ch.truncate(keep);
            }
        }
        return new MetricsLog(f);
    }

    /**
     * Appends a line (one write of the whole line).
     *
     * @param line the object (one line of JSON)
     * @throws java.io.UncheckedIOException when writing fails
     */
    public synchronized void write(ObjectNode line) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ByteBuffer b = ByteBuffer.wrap((LINE.writeValueAsString(line) + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                ch.write(b);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("could not append to " + file + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * @return the file's length: what a checkpoint records
     * @throws java.io.UncheckedIOException when the file cannot be asked
     */
    public synchronized long bytes() {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * A step line.
     *
     * @param step the global step (from 1)
     * @param stage the domain's index
     * @param domain its name
     * @param loss the objective
     * @param newLoss mean loss of the new windows
     * @param replay mean loss of the replayed windows, NaN when none
     * @param penalty the penalty terms
     * @param lr the learning rate
     * @param gradNorm the gradient norm before clipping
     * @param tokens tokens trained on in the step
     * @param seconds the step's time
     * @return the line
     */
    public static ObjectNode step(long step, int stage, String domain, double loss,
            double newLoss, double replay, double penalty, double lr, double gradNorm,
            long tokens, double seconds) {
        ObjectNode n = Json.object();
        n.put("type", "step");
        n.put("step", step);
        n.put("stage", stage);
        n.put("domain", domain);
        number(n, "loss", loss);
        number(n, "new", newLoss);
        number(n, "replay", replay);
        number(n, "penalty", penalty);
        n.put("lr", lr);
        number(n, "grad_norm", gradNorm);
        n.put("tokens", tokens);
        n.put("seconds", seconds);
        n.put("tokens_per_second", seconds > 0 ? Math.round(tokens / seconds) : 0);
        return n;
    }

    /**
     * An evaluation line.
     *
     * @param step the global step it was made at
     * @param stage the domain being learned then, or null for the base model
     * @param split {@code valid} (curves) or {@code test} (after a stage)
     * @param r the scores
     * @return the line
     */
    public static ObjectNode eval(long step, Integer stage, String split, EvalResult r) {
        ObjectNode n = Json.object();
        n.put("type", "eval");
        n.put("step", step);
        if (stage == null) {
            n.putNull("stage");
        } else {
            n.put("stage", stage);
        }
        n.put("domain", r.domain());
        n.put("split", split);
        number(n, "perplexity", r.perplexity());
        number(n, "mean_nll", r.meanNll());
        number(n, "token_accuracy", r.tokenAccuracy());
        n.put("tokens", r.predicted());
        return n;
    }

    /** Non-finite numbers are not JSON: null (a diverged step says so in results.json). */
    private static void number(ObjectNode n, String key, double v) {
        if (Double.isFinite(v)) {
            n.put(key, v);
        } else {
            n.putNull(key);
        }
    }

    /**
     * Reads a run's log; a last line cut short (a process killed while writing) is left out.
     *
     * @param runDir the run folder
     * @return its lines, in order; empty when there is no log
     * @throws IOException when the file cannot be read
     */
    public static List<JsonNode> read(Path runDir) throws IOException {
        Path f = runDir.resolve(FILE);
        List<JsonNode> out = new ArrayList<>();
        if (!Files.isRegularFile(f)) {
            return out;
        }
        try (BufferedReader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    out.add(Json.MAPPER.readTree(line));
                } catch (IOException e) {
                    break; // the unfinished last line of a killed process
                }
            }
        }
        return out;
    }
}
