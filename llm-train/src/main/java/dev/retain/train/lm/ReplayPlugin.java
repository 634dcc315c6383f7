package dev.retain.train.lm;

import dev.retain.core.UserError;
import dev.retain.core.util.Json;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyGroup;
import dev.retain.train.config.Settings;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.StepResult;
import dev.retain.train.plugin.TrainContext;
import dev.retain.train.replay.HardWindows;
import dev.retain.train.replay.ReservoirBuffer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Token-level replay: a {@link ReservoirBuffer} of training windows from earlier domains (budget in
 * tokens, equal share per domain), mixed into the same micro-batch as the new windows, so replay
 * costs one forward pass however many domains came before. A window is remembered by its domain
 * and start offset in that domain's train split (the split's tokens are at hand), which keeps the
 * checkpoint small and exact.
 *
 * <p>In a task-free run ({@code task-free}) the reservoir is one group over every window of the
 * stream, replayed from the second step on; the domain index in a remembered window is only its
 * address in the data, never a boundary the plugin acts on.
 */
public final class ReplayPlugin implements Plugin {

    /** Replay's settings. */
    public static final KeyGroup KEYS = new KeyGroup();
    /** The buffer's budget. */
    public static final Key<Long> TOKENS = KEYS.add(Key.longInteger("replay-tokens", 32768L, 0,
            "tokens", "replay buffer budget, shared equally by earlier domains").min(0, true)
            .alias("budget").max(1e12));
    /** Replayed windows per optimizer step, as a share of its windows. */
    public static final Key<Double> RATIO = KEYS.add(Key.real("replay-ratio", 0.25, 0, true,
            "replayed windows per optimizer step as a share of its batch-size x grad-accum"
                    + " windows, rounded to whole windows (batch 8: 0.25 = 2 windows) and spread"
                    + " over the micro-batches; below 1 with replace, at most 1 with add")
            .alias("ratio"));

    /** What a task-free run replays from. */
    public static final Key<String> FROM = KEYS.add(Key.choice("replay-from", "stream",
            List.of("stream", "consolidated"), "task-free: replay from every window seen so far"
                    + " (stream) or from the reservoir as it was at the last consolidation"
                    + " (consolidated: the windows learned before the detector's last plateau;"
                    + " the whole stream until the first)"));

    /** The hard buffer's size. */
    public static final Key<Integer> HARD = KEYS.add(Key.integer("replay-hard", 0, 0, "windows",
            "task-free: also replay from the windows of the highest-loss steps seen so far"
                    + " (Aljundi et al.'s hard buffer), drawn together with the reservoir's; 0 ="
                    + " off").max(1_000_000));

    private final ReservoirBuffer<Long> buffer;
    /** The windows of the highest-loss steps ({@code replay-hard}); empty with 0. */
    private final HardWindows hard;
    /** With {@code replay-from consolidated}: the reservoir's items at the last consolidation. */
    private List<Long> frozen;
    private final boolean fromConsolidated;
    private final double ratio;
    /** A task-free run: one reservoir over the whole stream, replayed from its start. */
    private final boolean taskFree;
    private long replayedWindows;

    /**
     * Creates the plugin.
     *
     * @param s the run's settings ({@link #KEYS})
     * @param seqLen tokens per window (the cost of one item)
     */
    public ReplayPlugin(Settings s, int seqLen) {
        this.buffer = new ReservoirBuffer<>(s.get(TOKENS), seqLen);
        this.ratio = s.get(RATIO);
        this.taskFree = s.get(dev.retain.train.stream.StreamKeys.TASK_FREE);
        this.fromConsolidated = s.get(FROM).equals("consolidated");
        this.hard = new HardWindows(taskFree ? s.get(HARD) : 0);
    }

    /**
     * @param ratio the share ({@link #RATIO})
     * @param windows windows per optimizer step ({@code batch-size x grad-accum})
     * @return replayed windows per optimizer step: the share of the step's windows, rounded
     */
    public static int rowsPerStep(double ratio, int windows) {
        return (int) Math.round(windows * ratio);
    }

    /**
     * Refuses a ratio the batch cannot hold: at least 1 with {@code replace} (a step needs new
     * windows) or above 1 with {@code add}, or one that leaves a replaced batch no new window.
     *
     * @param ratio the share ({@link #RATIO})
     * @param add whether replayed windows come on top of the batch ({@code replay-mode add})
     * @param batch windows per micro-batch
     * @param gradAccum micro-batches per step
     * @param replays whether the strategy replays (else only the ratio's range is checked)
     * @param where where the settings came from, for messages
     */
    public static void check(double ratio, boolean add, int batch, int gradAccum,
            boolean replays, String where) {
        if (ratio >= 1 && !add || ratio > 1) {
            throw new UserError(where + ": replay-ratio " + ratio + " must be below 1 (a"
                    + " step needs some new tokens), or at most 1 with replay-mode add");
        }
        if (replays && !add && rowsPerStep(ratio, batch * gradAccum) >= batch * gradAccum) {
            throw new UserError(where + ": with batch-size " + batch + (gradAccum > 1
                    ? " x grad-accum " + gradAccum : "") + " a replay-ratio of " + ratio
                    + " leaves no new windows; lower the ratio or raise the batch");
        }
    }

    @Override
    public String name() {
        return "replay";
    }

    /** @return the buffer (read-only use) */
    public ReservoirBuffer<Long> buffer() {
        return buffer;
    }

    /**
     * @param domain a domain's index
     * @param start a window's start in its train split
     * @return the window as one number: the domain in the high bits, the start in the low 40
     */
    public static long item(int domain, long start) {
        return ((long) domain << 40) | start;
    }

    /** The group new windows join: the domain, or in a task-free run the one stream. */
    private String group(TrainContext ctx) {
        return taskFree ? STREAM : ctx.domains().get(ctx.stage());
    }

    /** The one group of a task-free run. */
    private static final String STREAM = "stream";

    @Override
    public void beforeDomain(TrainContext ctx) {
        buffer.addGroup(group(ctx), ctx.rng());
    }

    /**
     * The step's replayed windows ({@link #rowsPerStep}) spread over its micro-batches, the later
     * ones taking the remainder (batch-size 1, grad-accum 4, ratio 0.25: one window, in the
     * fourth).
     */
    @Override
    public int replayRows(TrainContext ctx, int micro) {
        int total = rowsPerStep(ratio, ctx.batchSize() * ctx.gradAccum());
        return total * (micro + 1) / ctx.gradAccum() - total * micro / ctx.gradAccum();
    }

    @Override
    public int replayWindows(TrainContext ctx, int rows, long[] dst, int offset) {
        // With domains, from the earlier ones; in a stream, from its memory.
        List<Long> drawn = taskFree ? draw(memory(), rows, ctx.rng())
                : buffer.sample(rows, group(ctx), ctx.rng());
        for (int r = 0; r < drawn.size(); r++) {
            copy(ctx, drawn.get(r), dst, offset + r * ctx.seqLen());
        }
        replayedWindows += drawn.size();
        return drawn.size();
    }

    /**
     * What a task-free run replays from: every window the reservoir holds (or held at the last
     * consolidation, with {@code replay-from consolidated}) and the hard windows.
     */
    private List<Long> memory() {
        List<Long> pool = new ArrayList<>(frozen != null ? frozen
                : buffer.groups().getOrDefault(STREAM, List.of()));
        pool.addAll(hard.windows());
        return pool;
    }

    /**
     * Copies a window's tokens.
     *
     * @param ctx the run (its train splits)
     * @param item the window, as {@link #item} packs it
     * @param dst where to
     * @param at from this index, {@code seqLen} tokens
     */
    public static void copy(TrainContext ctx, long item, long[] dst, int at) {
        ctx.trainTokens((int) (item >>> 40)).copy(item & ((1L << 40) - 1), dst, at,
                ctx.seqLen());
    }

    /** Draws uniformly with replacement, as the buffer's {@code sample} does; none from none. */
    private static List<Long> draw(List<Long> pool, int count, java.util.Random rng) {
        if (pool.isEmpty()) {
            return List.of();
        }
        List<Long> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(pool.get(rng.nextInt(pool.size())));
        }
        return out;
    }

    /** With {@code replay-from consolidated}, the reservoir as it is now becomes the memory. */
    @Override
    public void consolidate(TrainContext ctx, List<long[]> windows) {
        if (fromConsolidated) {
            List<Long> now = buffer.groups().getOrDefault(STREAM, List.of());
            frozen = now.isEmpty() ? null : new ArrayList<>(now);
        }
    }

    @Override
    public void afterStep(TrainContext ctx, StepResult step) {
        String group = group(ctx);
        for (long s : step.newWindowStarts()) {
            buffer.offer(group, item(ctx.stage(), s), ctx.rng());
            hard.offer(item(ctx.stage(), s), step.newLoss());
        }
    }

    @Override
    public void saveState(Path dir) throws IOException {
        ObjectNode root = Json.object();
        root.put("budget_tokens", buffer.budget());
        root.put("replayed_windows", replayedWindows);
        if (frozen != null) {
            var fr = root.putArray("consolidated");
            frozen.forEach(fr::add);
        }
        if (!hard.isEmpty()) {
            hard.toJson(root.putArray("hard"));
        }
        ObjectNode groups = root.putObject("groups");
        buffer.groups().forEach((g, items) -> {
            ObjectNode n = groups.putObject(g);
            n.put("seen", buffer.seenCounts().get(g));
            var arr = n.putArray("items");
            items.forEach(arr::add);
        });
        Files.write(dir.resolve("replay.json"), Json.MAPPER.writeValueAsBytes(root));
    }

    @Override
    public void loadState(Path dir, TrainContext ctx) throws IOException {
        Path f = dir.resolve("replay.json");
        if (!Files.exists(f)) {
            return;
        }
        JsonNode root = Json.MAPPER.readTree(f.toFile());
        replayedWindows = root.path("replayed_windows").asLong();
        hard.restore(root.path("hard"));
        if (root.path("consolidated").isArray()) {
            frozen = new ArrayList<>();
            root.path("consolidated").forEach(x -> frozen.add(x.asLong()));
        }
        for (var it = root.path("groups").fields(); it.hasNext(); ) {
            var e = it.next();
            List<Long> items = new ArrayList<>();
            e.getValue().path("items").forEach(x -> items.add(x.asLong()));
            buffer.restoreGroup(e.getKey(), items, e.getValue().path("seen").asLong());
        }
    }
}
