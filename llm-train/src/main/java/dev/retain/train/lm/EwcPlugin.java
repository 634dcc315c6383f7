package dev.retain.train.lm;

import dev.retain.train.Seeds;
import dev.retain.train.config.TrainConfig;
import dev.retain.train.ewc.EwcPenalty;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * EWC for the language-model trainer: after each domain, the Fisher over {@code fisher-samples}
 * sequences of that domain is consolidated with the parameters as {@code theta*}; during later
 * domains the penalty's gradient joins every step's gradient.
 */
public final class EwcPlugin implements Plugin, AutoCloseable {

    private final EwcPenalty penalty;

    /**
     * Creates the plugin.
     *
     * @param parent manager its state lives under
     * @param config the run's settings (lambda, gamma)
     */
    public EwcPlugin(NDManager parent, TrainConfig config) {
        this.penalty = new EwcPenalty(parent, config.ewcLambda(), config.ewcGamma());
    }

    @Override
    public String name() {
        return "ewc";
    }

    /** @return the consolidated penalty (for drift reports and {@code retain fisher}) */
    public EwcPenalty penalty() {
        return penalty;
    }

    @Override
    public void beforeDomain(TrainContext ctx) {
        String prior = ctx.config().ewcPrior();
        if (ctx.stage() == 0 && !prior.isEmpty() && !penalty.active()) {
            penalty.restore(FisherFile.read(Path.of(prior), ctx.parameters(),
                    ctx.model().manager()));
        }
    }

    @Override
    public double afterBackward(TrainContext ctx, NDManager scope) {
        return penalty.addGradients(ctx.parameters(), scope);
    }

    @Override
    public void afterDomain(TrainContext ctx) {
        TrainConfig c = ctx.config();
        long t0 = System.nanoTime();
        LmFisher.Spec spec = new LmFisher.Spec(c.fisherSamples(), c.fisherMode().equals("sampled"),
                c.fisherBatched() ? c.batchSize() : 1, ctx.seqLen(),
                Seeds.derive(c.seed(), "fisher", ctx.stage()));
        try (NDManager tmp = ctx.model().manager().newSubManager()) {
            Map<String, NDArray> f = LmFisher.estimate(ctx.model(), ctx.parameters(),
                    ctx.trainTokens(ctx.stage()), spec, tmp);
            penalty.consolidate(ctx.parameters(), f);
        }
        ctx.addFisherSeconds((System.nanoTime() - t0) / 1e9);
        // Kept beside the stage models: reusable as --ewc-prior of another run.
        try {
            FisherFile.write(ctx.runDir().resolve("ewc-stage-" + ctx.stage() + ".ndlist"),
                    penalty.state());
        } catch (IOException e) {
            throw new dev.retain.core.UserError("could not write the EWC state into "
                    + ctx.runDir() + " (" + e.getMessage() + "); check free disk space", e);
        }
    }

    @Override
    public void saveState(Path dir) throws IOException {
        if (penalty.active()) {
            byte[] bytes = penalty.state().encode();
            Files.write(dir.resolve("ewc.ndlist"), bytes);
        }
    }

    @Override
    public void loadState(Path dir, TrainContext ctx) throws IOException {
        Path f = dir.resolve("ewc.ndlist");
        if (Files.exists(f)) {
            try (NDManager tmp = ctx.model().manager().newSubManager();
                    InputStream in = Files.newInputStream(f)) {
                penalty.restore(NDList.decode(tmp, in));
            }
        }
    }

    @Override
    public void close() {
        penalty.close();
    }
}
