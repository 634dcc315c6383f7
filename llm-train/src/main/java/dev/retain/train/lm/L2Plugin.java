package dev.retain.train.lm;

import dev.retain.core.model.NamedParameter;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyGroup;
import dev.retain.train.config.Settings;
import dev.retain.train.ewc.EwcPenalty;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code l2} strategy: the EWC penalty with F = 1, that is {@code lambda/2 * sum (theta -
 * theta_prev)^2} toward the weights at the end of the previous domain (the cheap baseline of the
 * regularisation methods: no Fisher to estimate). Its strength is {@code l2-lambda}. Every
 * trained parameter is covered; the anchor moves to the newest domain's end each time (online
 * decay 0), so older domains are protected only through the newer anchors.
 */
public final class L2Plugin implements Plugin, AutoCloseable {

    /** The l2 strategy's setting. */
    public static final KeyGroup KEYS = new KeyGroup();
    /** Its strength. */
    public static final Key<Double> LAMBDA = KEYS.add(Key.real("l2-lambda", 1.0, 0, true,
            "strength of the l2 strategy: lambda/2 * sum (theta - theta_prev)^2, theta_prev the"
                    + " weights at the previous domain's end"));

    private static final String FILE = "l2.ndlist";

    private final EwcPenalty penalty;

    /**
     * Creates the plugin.
     *
     * @param parent manager its state lives under
     * @param s the run's settings ({@link #LAMBDA})
     */
    public L2Plugin(NDManager parent, Settings s) {
        this.penalty = new EwcPenalty(parent, s.get(LAMBDA), 0.0);
    }

    @Override
    public String name() {
        return "l2";
    }

    /** @return the penalty (F = 1, anchored at the last domain's end) */
    public EwcPenalty penalty() {
        return penalty;
    }

    @Override
    public double afterBackward(TrainContext ctx, NDManager scope) {
        return penalty.addGradients(ctx.parameters(), scope);
    }

    @Override
    public void afterDomain(TrainContext ctx) {
        anchor(ctx);
    }

    /** A task-free run: the anchor moves to the weights as they are at this consolidation. */
    @Override
    public void consolidate(TrainContext ctx, java.util.List<long[]> windows) {
        anchor(ctx);
    }

    private void anchor(TrainContext ctx) {
        try (NDManager tmp = ctx.model().manager().newSubManager()) {
            Map<String, NDArray> ones = new LinkedHashMap<>();
            for (NamedParameter p : ctx.parameters()) {
                NDArray one = tmp.ones(p.array().getShape(), p.array().getDataType());
                ones.put(p.name(), one);
            }
            penalty.consolidate(ctx.parameters(), ones); // F = 0 * F_old + 1, theta* = theta
        }
    }

    @Override
    public void saveState(Path dir) throws IOException {
        penalty.save(dir.resolve(FILE));
    }

    @Override
    public void loadState(Path dir, TrainContext ctx) throws IOException {
        penalty.load(dir.resolve(FILE));
    }

    @Override
    public void close() {
        penalty.close();
    }
}
