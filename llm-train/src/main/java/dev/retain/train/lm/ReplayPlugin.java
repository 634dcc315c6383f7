package dev.retain.train.lm;

import dev.retain.core.util.Json;
import dev.retain.train.StepResult;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;
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
 */
public final class ReplayPlugin implements Plugin {

    private final ReservoirBuffer<Long> buffer;
    private long replayedWindows;

    /**
     * Creates the plugin.
     *
     * @param budgetTokens buffer budget in tokens
     * @param seqLen tokens per window (the cost of one item)
     */
    public ReplayPlugin(long budgetTokens, int seqLen) {
        this.buffer = new ReservoirBuffer<>(budgetTokens, seqLen);
    }

    @Override
    public String name() {
        return "replay";
    }

    /** @return the buffer (read-only use) */
    public ReservoirBuffer<Long> buffer() {
        return buffer;
    }

    private static long item(int domain, long start) {
        return ((long) domain << 40) | start;
    }

    @Override
    public void beforeDomain(TrainContext ctx) {
        buffer.addGroup(ctx.domains().get(ctx.stage()), ctx.rng());
    }

    @Override
    public int replayRows(TrainContext ctx) {
        return ctx.config().replayRows(ctx.microBatch());
    }

    @Override
    public int replayWindows(TrainContext ctx, int rows, long[] dst, int offset) {
        List<Long> drawn = buffer.sample(rows, ctx.domains().get(ctx.stage()), ctx.rng());
        int seqLen = ctx.seqLen();
        for (int r = 0; r < drawn.size(); r++) {
            long it = drawn.get(r);
            int domain = (int) (it >>> 40);
            long start = it & ((1L << 40) - 1);
            ctx.trainTokens(domain).copy(start, dst, offset + r * seqLen, seqLen);
        }
        replayedWindows += drawn.size();
        return drawn.size();
    }

    @Override
    public void afterStep(TrainContext ctx, StepResult step) {
        String group = ctx.domains().get(ctx.stage());
        for (long s : step.newWindowStarts()) {
            buffer.offer(group, item(ctx.stage(), s), ctx.rng());
        }
    }

    @Override
    public void saveState(Path dir) throws IOException {
        ObjectNode root = Json.object();
        root.put("budget_tokens", buffer.budget());
        root.put("replayed_windows", replayedWindows);
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
        for (var it = root.path("groups").fields(); it.hasNext(); ) {
            var e = it.next();
            List<Long> items = new ArrayList<>();
            e.getValue().path("items").forEach(x -> items.add(x.asLong()));
            buffer.restoreGroup(e.getKey(), items, e.getValue().path("seen").asLong());
        }
    }
}
