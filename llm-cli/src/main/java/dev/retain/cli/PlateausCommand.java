package dev.retain.cli;

import dev.retain.core.UserError;
import dev.retain.core.util.Json;
import dev.retain.core.util.OutputPaths;
import dev.retain.eval.results.MetricsLog;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;
import dev.retain.train.stream.BoundaryScore;
import dev.retain.train.stream.PlateauDetector;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.commons.cli.CommandLine;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * {@code retain plateaus RUN_DIR}: the task-free boundary detector ({@link PlateauDetector}) run
 * over the per-step training losses of a run that learned several domains in turn, as if the
 * boundaries were unknown, and measured against the true ones: for each boundary the steps until
 * the first detection, and the detections that answer no boundary (false triggers).
 *
 * <p>The loss it reads is each step line's {@code new}, the loss of the step's new windows (the
 * incoming data; for naive training it is the step's loss), else {@code loss}; a step whose loss
 * is not a number (a diverged step) is left out. For naive training the detections do not change
 * the training, so this is exactly what a task-free run would have seen.
 */
final class PlateausCommand implements Command {

    private static final Key<Integer> NEAR = Key.integer("near", 0, 0, "steps", "a detection"
            + " within this many steps after the stream's start or a true boundary answers it;"
            + " any other detection is a false trigger").shown("3 x --plateau-window")
            .max(1_000_000_000);
    private static final Key<Path> JSON = Key.path("json", "FILE", "also write the result as"
            + " JSON");

    private static final KeyTable KEYS = KeyTable.of(PlateauDetector.KEYS)
            .plus(List.of(NEAR, JSON));

    @Override
    public String name() {
        return "plateaus";
    }

    @Override
    public String usage() {
        return "plateaus RUN_DIR [--plateau-window N] [--plateau-peak X] [--plateau-stable Y]"
                + " [--near N] [--json FILE]";
    }

    @Override
    public String summary() {
        return "the task-free boundary detector on a run's losses, against the true boundaries";
    }

    @Override
    public String footer() {
        return "Reads RUN_DIR/metrics.jsonl of a run that learned several domains in turn, feeds"
                + " each step's training loss (of the new windows) to the peak-then-plateau"
                + " detector of Aljundi et al. (Task-Free Continual Learning, CVPR 2019) without"
                + " telling it where a domain starts, and prints for each true boundary (the first"
                + " step of each domain after the first) the steps until the first detection at"
                + " or after it and before the next boundary (or none), then the false triggers."
                + " The stream's start counts as a boundary for false triggers: the detection"
                + " that says the first domain has been learned is not false (docs/STREAM.md).";
    }

    @Override
    public KeyTable keys() {
        return KEYS;
    }

    /** One step's loss and domain, from a step line. */
    private record Step(long step, int stage, String domain, double loss) {}

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        Path runDir = Path.of(Opts.single(cl, this, "run folder", ""));
        Settings v = Opts.values(KEYS, cl);
        if (v.has(JSON)) {
            OutputPaths.file(v.get(JSON), "--json");
        }
        PlateauDetector detector = PlateauDetector.of(v);
        long near = v.has(NEAR) ? v.get(NEAR) : 3L * detector.window();
        List<Step> steps = steps(runDir);

        List<Long> starts = new ArrayList<>();
        List<String> domains = new ArrayList<>();
        List<Long> detections = new ArrayList<>();
        int stage = Integer.MIN_VALUE;
        for (Step s : steps) {
            if (s.stage() != stage) {
                stage = s.stage();
                starts.add(s.step());
                domains.add(s.domain());
            }
            if (detector.update(s.loss())) {
                detections.add(s.step());
            }
        }
        if (starts.size() < 2) {
            throw new UserError(runDir.resolve(MetricsLog.FILE) + ": every step is of one domain ("
                    + domains.get(0) + "); the detector is measured against the boundaries between"
                    + " domains: give a run that learned two or more");
        }
        BoundaryScore score = BoundaryScore.of(starts, domains, detections, near);
        print(out, runDir, steps.size(), v, score);
        if (v.has(JSON)) {
            Json.write(v.get(JSON), json(runDir, steps.size(), v, score));
        }
        return 0;
    }

    /**
     * The step lines of a run's log with a numeric loss, in step order; where a step was logged
     * twice the last line counts.
     */
    private static List<Step> steps(Path runDir) throws java.io.IOException {
        Path log = runDir.resolve(MetricsLog.FILE);
        if (!Files.isRegularFile(log)) {
            throw new UserError(log + ": no such file; give the folder of a run (retain train"
                    + " --out DIR writes it)");
        }
        TreeMap<Long, Step> byStep = new TreeMap<>();
        for (JsonNode l : MetricsLog.read(runDir)) {
            if (!l.path("type").asText().equals("step") || !l.path("step").canConvertToLong()) {
                continue;
            }
            JsonNode loss = l.path("new").isNumber() ? l.path("new") : l.path("loss");
            if (!loss.isNumber()) {
                byStep.remove(l.path("step").asLong());
                continue; // a diverged step: no loss to learn from
            }
            byStep.put(l.path("step").asLong(), new Step(l.path("step").asLong(),
                    l.path("stage").asInt(), l.path("domain").asText("?"), loss.asDouble()));
        }
        if (byStep.isEmpty()) {
            throw new UserError(log + ": no step lines with a loss; the run trained no step");
        }
        return new ArrayList<>(byStep.values());
    }

    private static String settingsText(Settings v, long near) {
        return String.format(Locale.ROOT, "window %d, peak %s, stable %s, floor %s; near %d"
                + " steps", v.get(PlateauDetector.WINDOW), num(v.get(PlateauDetector.PEAK)),
                num(v.get(PlateauDetector.STABLE)), num(v.get(PlateauDetector.FLOOR)), near);
    }

    private static String num(double x) {
        return x == Math.rint(x) && Math.abs(x) < 1e15 ? String.valueOf((long) x)
                : String.valueOf(x);
    }

    private static String steps(List<Long> xs) {
        return xs.stream().map(String::valueOf).collect(Collectors.joining(", "));
    }

    private static void print(PrintStream out, Path runDir, int steps, Settings v,
            BoundaryScore s) {
        out.printf(Locale.ROOT, "plateaus of %s: %d steps over %d domains; %s%n", runDir, steps,
                s.boundaries().size() + 1, settingsText(v, s.near()));
        int w = Math.max(6, s.boundaries().stream().mapToInt(b -> b.domain().length()).max()
                .orElse(6));
        w = Math.max(w, s.start().domain().length());
        String row = "  %-8s %6s  %-" + w + "s  %15s  %11s%n";
        out.printf(Locale.ROOT, row, "boundary", "step", "domain", "first detection",
                "steps after");
        row(out, row, "start", s.start());
        for (int i = 0; i < s.boundaries().size(); i++) {
            row(out, row, String.valueOf(i + 1), s.boundaries().get(i));
        }
        out.printf(Locale.ROOT, "detections: %s%n", s.detections().isEmpty() ? "none"
                : s.detections().size() + " at steps " + steps(s.detections()));
        out.printf(Locale.ROOT, "false triggers (not within %d steps after the start or a"
                + " boundary): %s%n", s.near(), s.falseTriggers().isEmpty() ? "none"
                        : s.falseTriggers().size() + " at steps " + steps(s.falseTriggers()));
        double mean = s.meanStepsAfter();
        out.printf(Locale.ROOT, "summary: %d of %d boundaries detected%s, %d false trigger%s,"
                + " %d detection%s%n", s.detected(), s.boundaries().size(), Double.isNaN(mean)
                        ? "" : String.format(Locale.ROOT, " (mean %.1f steps after)", mean),
                s.falseTriggers().size(), s.falseTriggers().size() == 1 ? "" : "s",
                s.detections().size(), s.detections().size() == 1 ? "" : "s");
    }

    private static void row(PrintStream out, String format, String label,
            BoundaryScore.Boundary b) {
        out.printf(Locale.ROOT, format, label, b.step(), b.domain(), b.firstDetection() == null
                ? "none" : String.valueOf(b.firstDetection()), b.stepsAfter() == null ? "-"
                        : String.valueOf(b.stepsAfter()));
    }

    private static ObjectNode json(Path runDir, int steps, Settings v, BoundaryScore s) {
        ObjectNode n = Json.object();
        n.put("run", runDir.toString());
        n.put("steps", steps);
        ObjectNode set = n.putObject("settings");
        set.put(PlateauDetector.WINDOW.name(), v.get(PlateauDetector.WINDOW));
        set.put(PlateauDetector.PEAK.name(), v.get(PlateauDetector.PEAK));
        set.put(PlateauDetector.STABLE.name(), v.get(PlateauDetector.STABLE));
        set.put(PlateauDetector.FLOOR.name(), v.get(PlateauDetector.FLOOR));
        set.put(NEAR.name(), s.near());
        n.set("start", boundary(s.start()));
        ArrayNode bs = n.putArray("boundaries");
        s.boundaries().forEach(b -> bs.add(boundary(b)));
        ArrayNode ds = n.putArray("detections");
        s.detections().forEach(ds::add);
        ArrayNode fs = n.putArray("false_triggers");
        s.falseTriggers().forEach(fs::add);
        ObjectNode sum = n.putObject("summary");
        sum.put("boundaries", s.boundaries().size());
        sum.put("detected", s.detected());
        if (Double.isNaN(s.meanStepsAfter())) {
            sum.putNull("mean_steps_after");
        } else {
            sum.put("mean_steps_after", s.meanStepsAfter());
        }
        sum.put("false_triggers", s.falseTriggers().size());
        sum.put("detections", s.detections().size());
        return n;
    }

    private static ObjectNode boundary(BoundaryScore.Boundary b) {
        ObjectNode n = Json.object();
        n.put("step", b.step());
        n.put("domain", b.domain());
        if (b.firstDetection() == null) {
            n.putNull("first_detection");
            n.putNull("steps_after");
        } else {
            n.put("first_detection", b.firstDetection());
            n.put("steps_after", b.stepsAfter());
        }
        return n;
    }
}
