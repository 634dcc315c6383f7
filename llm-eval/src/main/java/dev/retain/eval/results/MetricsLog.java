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
 * before it goes on, so the steps it repeats are not logged twice and none is missing. A file
 * that does not end with a whole line (cut short by a crash, a full disk or a hand) is cut back
 * to its last whole line first, so that the next line starts a line of its own; lines lost so
 * (or a deleted log) cannot be made again: {@link #problems} names them, and {@code retain
 * report} warns.
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
                StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            if (keep >= 0 && ch.size() > keep) {
                ch.truncate(keep);
            }
            long whole = wholeLines(ch);
            if (whole < ch.size()) {
                ch.truncate(whole);
            }
            if (keep > 0 && ch.size() < keep) {
                System.err.println("retain: warning: " + f + " is shorter than the checkpoint"
                        + " recorded (" + ch.size() + " of " + keep + " bytes): the lines it"
                        + " lost are not written again; retain report names the missing steps");
            }
        }
        return new MetricsLog(f);
    }

    /** @return the length of the file up to the end of its last whole line */
    private static long wholeLines(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1 << 16);
        long end = ch.size();
        while (end > 0) {
            long from = Math.max(0, end - b.capacity());
            b.clear().limit((int) (end - from));
            while (b.hasRemaining() && ch.read(b, from + b.position()) > 0) {
                // fill the window
            }
            for (int i = b.position() - 1; i >= 0; i--) {
                if (b.get(i) == '\n') {
                    return from + i + 1;
                }
            }
            end = from;
        }
        return 0;
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
            throw new java.io.UncheckedIOException(dev.retain.core.util.IoFailure.writing(file,
                    e));
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
        ObjectNode n = evalHeader(step, stage);
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
     * What is wrong with a run's log, one line each (for {@code retain report}): the log missing,
     * lines that are not JSON, steps missing (the steps the run's finished stages took, {@code
     * 1..steps}, each need a step line).
     *
     * @param runDir the run folder
     * @param steps the steps its finished stages took
     * @return the problems, empty when none
     */
    public static List<String> problems(Path runDir, long steps) {
        Path f = runDir.resolve(FILE);
        List<String> out = new ArrayList<>();
        if (!Files.isRegularFile(f)) {
            if (steps > 0) {
                out.add(f + " is missing: the loss of steps 1-" + steps + " is lost (the report"
                        + " has no training-loss chart)");
            }
            return out;
        }
        long bad = 0;
        long firstBad = 0;
        long next = 1;
        List<String> gaps = new ArrayList<>();
        long gapSteps = 0;
        try (BufferedReader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
            String line;
            for (long n = 1; (line = r.readLine()) != null; n++) {
                JsonNode l;
                try {
                    l = line.isBlank() ? null : Json.MAPPER.readTree(line);
                } catch (IOException e) {
                    bad++;
                    firstBad = firstBad == 0 ? n : firstBad;
                    continue;
                }
                if (l == null || !l.path("type").asText().equals("step")) {
                    continue;
                }
                long step = l.path("step").asLong(-1);
                if (step > next) {
                    gaps.add(next == step - 1 ? String.valueOf(next) : next + "-" + (step - 1));
                    gapSteps += step - next;
                }
                next = Math.max(next, step + 1);
            }
        } catch (IOException e) {
            out.add(f + " cannot be read (" + e.getMessage() + ")");
            return out;
        }
        if (steps >= next) {
            gaps.add(next == steps ? String.valueOf(next) : next + "-" + steps);
            gapSteps += steps - next + 1;
        }
        if (bad > 0) {
            out.add(f + ": " + bad + " line" + (bad == 1 ? " is" : "s are") + " not JSON (the"
                    + " first: line " + firstBad + "); the report reads the others");
        }
        if (!gaps.isEmpty()) {
            out.add(f + ": the loss of " + gapSteps + " step" + (gapSteps == 1 ? "" : "s")
                    + " is missing (step" + (gapSteps == 1 ? " " : "s ") + String.join(", ",
                    gaps.subList(0, Math.min(5, gaps.size()))) + (gaps.size() > 5 ? ", ..."
                    : "") + "): the log was cut or damaged");
        }
        return out;
    }

    /**
     * Reads a run's log; lines that are not JSON (a last line cut short by a process killed
     * while writing, a damaged line) are left out ({@link #problems} names them).
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
                    // a torn or damaged line: the others are still good
                }
            }
        }
        return out;
    }

    /** The start of an evaluation line: its type, step and stage (null before any stage ends). */
    static ObjectNode evalHeader(long step, Integer stage) {
        ObjectNode n = Json.object();
        n.put("type", "eval");
        n.put("step", step);
        if (stage == null) {
            n.putNull("stage");
        } else {
            n.put("stage", stage);
        }
        return n;
    }
}
