package dev.retain.train.stream;

import dev.retain.core.util.Json;
import dev.retain.train.config.Settings;
import dev.retain.train.lm.ReplayPlugin;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.StepResult;
import dev.retain.train.plugin.TrainContext;
import dev.retain.train.replay.HardWindows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Where a task-free run consolidates ({@link StreamKeys#CONSOLIDATE}), and with what: after every
 * step it feeds the step's loss on its new windows to the {@link PlateauDetector} (or counts the
 * new tokens, for {@code every:N}), remembers the step's new windows among the {@link
 * StreamKeys#RECENT_WINDOWS} latest and, when the step's loss is among the highest since the last
 * consolidation, among the {@link StreamKeys#HARD_WINDOWS} hard ones (Aljundi et al.'s hard
 * buffer; a step's windows share its loss); where the rule fires it hands those windows' tokens
 * to every strategy plugin's {@link Plugin#consolidate} (EWC estimates its Fisher over them) and
 * records the consolidation in results.json and metrics.jsonl. The detector's plateaus are
 * recorded under every rule (with {@code consolidated} false where the strategies did not act
 * there: {@code every:N}, {@code none}, or naive), so any task-free run shows where it would have
 * consolidated.
 *
 * <p>Its whole state (the detector's, both buffers as window addresses, the token counts) goes
 * into every checkpoint as {@code stream.json}, so a resumed run consolidates where the
 * uninterrupted one does, over the same windows.
 */
public final class StreamConsolidation implements Plugin {

    private static final String FILE = "stream.json";

    private final StreamKeys.Rule rule;
    private final List<Plugin> strategy;
    private final PlateauDetector detector;
    private final int recentCap;
    /** The latest windows ({@link ReplayPlugin#item}), oldest first. */
    private final ArrayDeque<Long> recent = new ArrayDeque<>();
    /** The windows of the highest-loss steps since the last consolidation. */
    private final HardWindows hard;
    private long tokens;
    private long tokensAtLast;

    /**
     * @param s the run's settings ({@link StreamKeys#KEYS}, {@link PlateauDetector#KEYS})
     * @param strategy the strategy's plugins, consolidated in this order
     */
    public StreamConsolidation(Settings s, List<Plugin> strategy) {
        this.rule = StreamKeys.Rule.parse(s.get(StreamKeys.CONSOLIDATE), "settings");
        this.strategy = List.copyOf(strategy);
        this.detector = PlateauDetector.of(s);
        this.recentCap = s.get(StreamKeys.RECENT_WINDOWS);
        this.hard = new HardWindows(s.get(StreamKeys.HARD_WINDOWS));
    }

    @Override
    public String name() {
        return "stream-consolidation";
    }

    @Override
    public void beforeDomain(TrainContext ctx) {
        ctx.results().taskFree(rule.toString());
    }

    @Override
    public void afterStep(TrainContext ctx, StepResult r) {
        tokens += r.newTokens();
        for (long start : r.newWindowStarts()) {
            long window = ReplayPlugin.item(ctx.stage(), start);
            recent.addLast(window);
            if (recent.size() > recentCap) {
                recent.removeFirst();
            }
            hard.offer(window, r.newLoss());
        }
        boolean detected = detector.update(r.newLoss());
        boolean every = rule.everyTokens() > 0 && tokens - tokensAtLast >= rule.everyTokens();
        boolean fire = rule.plateau() ? detected : every;
        if (fire && !strategy.isEmpty()) {
            List<long[]> windows = windows(ctx);
            for (Plugin p : strategy) {
                p.consolidate(ctx, windows);
            }
        }
        if (detected) { // recorded under every rule: where the detector saw a plateau
            ctx.results().addConsolidation(ctx.globalStep(), tokens, "plateau",
                    rule.plateau() && !strategy.isEmpty(), ctx.stage());
        }
        if (every) {
            ctx.results().addConsolidation(ctx.globalStep(), tokens, "every",
                    !strategy.isEmpty(), ctx.stage());
        }
        if (fire) {
            tokensAtLast = tokens;
            hard.clear();
        }
    }

    /** The recent windows, then the hard ones not among them: their tokens. */
    private List<long[]> windows(TrainContext ctx) {
        LinkedHashSet<Long> all = new LinkedHashSet<>(recent);
        all.addAll(hard.windows());
        List<long[]> out = new ArrayList<>();
        for (long w : all) {
            long[] ids = new long[ctx.seqLen()];
            ReplayPlugin.copy(ctx, w, ids, 0);
            out.add(ids);
        }
        return out;
    }

    /** @return the new tokens of the stream trained on so far */
    public long tokens() {
        return tokens;
    }

    @Override
    public void saveState(Path dir) throws IOException {
        ObjectNode n = Json.object();
        n.put("rule", rule.toString());
        n.set("detector", detector.state().toJson());
        n.put("tokens", tokens);
        n.put("tokens_at_last", tokensAtLast);
        ArrayNode rs = n.putArray("recent");
        recent.forEach(rs::add);
        hard.toJson(n.putArray("hard"));
        Files.write(dir.resolve(FILE), Json.MAPPER.writeValueAsBytes(n));
    }

    @Override
    public void loadState(Path dir, TrainContext ctx) throws IOException {
        Path f = dir.resolve(FILE);
        if (!Files.exists(f)) {
            return; // a checkpoint before the first step
        }
        JsonNode n = Json.MAPPER.readTree(f.toFile());
        try {
            detector.restore(PlateauDetector.State.fromJson(n.path("detector")));
        } catch (IllegalArgumentException e) {
            throw new IOException(f + ": " + e.getMessage(), e);
        }
        tokens = n.path("tokens").asLong();
        tokensAtLast = n.path("tokens_at_last").asLong();
        recent.clear();
        n.path("recent").forEach(w -> recent.addLast(w.asLong()));
        hard.restore(n.path("hard"));
    }
}
