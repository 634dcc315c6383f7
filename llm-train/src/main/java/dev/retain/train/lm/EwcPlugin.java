package dev.retain.train.lm;

import dev.retain.core.model.NamedParameter;
import dev.retain.core.util.AtomicFiles;
import dev.retain.train.Seeds;
import dev.retain.train.config.TrainConfig;
import dev.retain.train.ewc.EwcPenalty;
import dev.retain.train.ewc.FisherFile;
import dev.retain.train.plugin.Phase;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * EWC for the language-model trainer: after each domain, the Fisher over {@code fisher-samples}
 * sequences of that domain is consolidated with the parameters as {@code theta*}; during later
 * domains the penalty's gradient joins every step's gradient.
 *
 * <p>EWC covers every trained parameter unless {@code ewc-exclude} names some: those get no
 * Fisher, no anchor and no penalty (and cost nothing to estimate). On GPT-2 the token embedding
 * is most of the parameters and is also the output layer, so anchoring it holds back the shift in
 * word frequencies each new domain needs; see README, "The trade-off".
 */
public final class EwcPlugin implements Plugin, AutoCloseable {

    private final EwcPenalty penalty;
    private final Pattern exclude;
    private List<NamedParameter> covered;
    /** The state written at this session's last consolidation; checkpoints link it. */
    private Path consolidated;

    /**
     * Creates the plugin.
     *
     * @param parent manager its state lives under
     * @param config the run's settings (lambda, gamma, the parameters left out)
     */
    public EwcPlugin(NDManager parent, TrainConfig config) {
        this.penalty = new EwcPenalty(parent, config.ewcLambda(), config.ewcGamma());
        this.exclude = config.ewcExclude().isEmpty() ? null
                : Pattern.compile(config.ewcExclude());
    }

    /**
     * The parameters EWC covers: those whose names contain no match of the pattern.
     *
     * @param params the model's trained parameters
     * @param exclude the pattern of {@code ewc-exclude}; null keeps all
     * @return the covered parameters, in the model's order
     * @throws dev.retain.core.UserError when the pattern leaves no parameter
     */
    public static List<NamedParameter> covered(List<NamedParameter> params, Pattern exclude) {
        if (exclude == null) {
            return params;
        }
        List<NamedParameter> out = NamedParameter.without(params, exclude.pattern());
        if (out.isEmpty()) {
            throw new dev.retain.core.UserError("--ewc-exclude '" + exclude.pattern() + "'"
                    + " matches every parameter of the model, so EWC would protect nothing;"
                    + " narrow it (e.g. 'wte|wpe') or use --strategy naive or replay");
        }
        return out;
    }

    private List<NamedParameter> covered(TrainContext ctx) {
        if (covered == null) {
            covered = covered(ctx.parameters(), exclude);
        }
        return covered;
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
        covered(ctx); // an ewc-exclude that leaves nothing is refused before the first step
        String prior = ctx.config().ewcPrior();
        if (ctx.stage() == 0 && !prior.isEmpty() && !penalty.active()) {
            NDList read = FisherFile.read(Path.of(prior), covered(ctx), ctx.model().manager());
            penalty.restore(read); // restore keeps copies
            read.close();
        }
    }

    @Override
    public double afterBackward(TrainContext ctx, NDManager scope) {
        return penalty.addGradients(covered(ctx), scope);
    }

    @Override
    public void afterDomain(TrainContext ctx) {
        TrainConfig c = ctx.config();
        long t0 = System.nanoTime();
        LmFisher.Spec spec = new LmFisher.Spec(c.fisherSamples(), c.fisherMode().equals("sampled"),
                c.fisherBatched() ? c.batchSize() : 1, ctx.seqLen(),
                Seeds.derive(c.seed(), "fisher", ctx.stage()));
        try (NDManager tmp = ctx.model().manager().newSubManager()) {
            Map<String, NDArray> f = LmFisher.estimate(ctx.model(), covered(ctx),
                    ctx.trainTokens(ctx.stage()), spec, tmp);
            penalty.consolidate(covered(ctx), f);
        }
        ctx.addSeconds(Phase.FISHER, (System.nanoTime() - t0) / 1e9);
        ctx.addTokenPasses(2L * c.fisherSamples() * ctx.seqLen()); // forward and backward
        // Kept beside the stage models (those export-stages writes): reusable as --ewc-prior of
        // another run, and linked into this domain's checkpoints.
        consolidated = null;
        if (!c.exportsStage(ctx.stage(), ctx.domains().size())) {
            return;
        }
        try {
            Path file = ctx.runDir().resolve("ewc-stage-" + ctx.stage() + ".ndlist");
            FisherFile.write(file, penalty.state());
            consolidated = file;
        } catch (IOException e) {
            throw new dev.retain.core.UserError("could not write the EWC state into "
                    + ctx.runDir() + " (" + e.getMessage() + "); check free disk space", e);
        }
    }

    @Override
    public void saveState(Path dir) throws IOException {
        // F and theta* change only at a domain's end: until the next one, every checkpoint's copy
        // is the stage file's bytes, so it is a hard link to it (stored once, written once).
        Path file = dir.resolve("ewc.ndlist");
        if (consolidated == null || !Files.isRegularFile(consolidated)
                || !AtomicFiles.link(file, consolidated)) {
            penalty.save(file);
        }
    }

    @Override
    public void loadState(Path dir, TrainContext ctx) throws IOException {
        penalty.load(dir.resolve("ewc.ndlist"));
    }

    @Override
    public void close() {
        penalty.close();
    }
}
