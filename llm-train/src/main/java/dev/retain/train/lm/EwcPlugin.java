package dev.retain.train.lm;

import dev.retain.core.model.NamedParameter;
import dev.retain.core.util.AtomicFiles;
import dev.retain.core.util.Seeds;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyGroup;
import dev.retain.train.config.Settings;
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
 * word frequencies each new domain needs; see docs/TRAINING.md, "The trade-off".
 */
public final class EwcPlugin implements Plugin, AutoCloseable {

    /** EWC's settings. */
    public static final KeyGroup KEYS = new KeyGroup();
    /** The strength lambda. */
    public static final Key<Double> LAMBDA = KEYS.add(Key.real("ewc-lambda", 2000.0, 0, true,
            "EWC strength: lambda/2 * sum F (theta - theta*)^2; a batched Fisher needs a larger"
                    + " lambda").alias("lambda"));
    /** Online-EWC decay. */
    public static final Key<Double> GAMMA = KEYS.add(Key.real("ewc-gamma", 1.0, 0, false,
            "online EWC: F = gamma*F_old + F_new (1 = plain sum)").alias("gamma"));
    /** Sequences the Fisher is estimated over. */
    public static final Key<Integer> FISHER_SAMPLES = KEYS.add(Key.integer("fisher-samples", 64,
            1, "sequences", "sequences of the finished domain the diagonal Fisher is estimated"
                    + " over").alias("samples").max(10_000_000));
    /** Which next tokens the Fisher's gradients take. */
    public static final Key<String> FISHER_MODE = KEYS.add(Key.choice("fisher-mode",
            "empirical", List.of("empirical", "sampled"), "empirical (gradient of the NLL of the"
                    + " true next tokens) or sampled (next tokens drawn from the model: the true"
                    + " Fisher)"));
    /** Mini-batch gradients squared instead of per-sequence ones. */
    public static final Key<Boolean> FISHER_BATCHED = KEYS.add(Key.flag("fisher-batched",
            "square mini-batch gradients (cheaper; needs a larger --ewc-lambda, roughly x batch"
                    + " size) instead of per-sequence ones"));
    /** A Fisher file consolidated before the first domain. */
    public static final Key<String> PRIOR = KEYS.add(Key.text("ewc-prior", "", "Fisher file from"
            + " retain fisher (e.g. of the base model on general text) that EWC protects from the"
            + " first domain on").metavar("FILE"));
    /** Parameters EWC leaves free. */
    public static final Key<String> EXCLUDE = KEYS.add(Key.pattern("ewc-exclude", "",
            "parameters EWC leaves free: a regular expression found in their names, e.g."
                    + " 'wte|wpe' (the token and position embeddings; GPT-2's output layer shares"
                    + " the token embedding); none = every trained parameter, as in Kirkpatrick"
                    + " et al.").alias("exclude"));

    private final EwcPenalty penalty;
    private final Pattern exclude;
    private final int fisherSamples;
    private final boolean sampled;
    private final boolean batched;
    private final String prior;
    private List<NamedParameter> covered;
    /** The state written at this session's last consolidation; checkpoints link it. */
    private Path consolidated;

    /**
     * Creates the plugin.
     *
     * @param parent manager its state lives under
     * @param s the run's settings (it reads its own, {@link #KEYS})
     */
    public EwcPlugin(NDManager parent, Settings s) {
        this.penalty = new EwcPenalty(parent, s.get(LAMBDA), s.get(GAMMA));
        this.exclude = s.get(EXCLUDE).isEmpty() ? null : Pattern.compile(s.get(EXCLUDE));
        this.fisherSamples = s.get(FISHER_SAMPLES);
        this.sampled = s.get(FISHER_MODE).equals("sampled");
        this.batched = s.get(FISHER_BATCHED);
        this.prior = s.get(PRIOR);
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
        LmFisher.Spec spec = spec(ctx, fisherSamples, Seeds.derive(ctx.seed(), "fisher",
                ctx.stage()));
        consolidate(ctx, fisherSamples, tmp -> LmFisher.estimate(ctx.model(), covered(ctx),
                ctx.trainTokens(ctx.stage()), spec, tmp));
        // Kept beside the stage models (those export-stages writes): reusable as --ewc-prior of
        // another run, and linked into this domain's checkpoints.
        consolidated = null;
        if (!ctx.exportsStage()) {
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

    /**
     * Online EWC without boundaries: the Fisher over the recent and hard windows, {@code F =
     * gamma * F + F_new}, the anchor moved to the weights as they are now. The state is not
     * kept beside the stage models (a stream consolidates many times); checkpoints hold it.
     */
    @Override
    public void consolidate(TrainContext ctx, List<long[]> windows) {
        LmFisher.Spec spec = spec(ctx, windows.size(), Seeds.derive(ctx.seed(), "fisher-step",
                ctx.globalStep()));
        consolidate(ctx, windows.size(), tmp -> LmFisher.estimate(ctx.model(), covered(ctx),
                windows, spec, tmp));
        consolidated = null;
    }

    private LmFisher.Spec spec(TrainContext ctx, int samples, long seed) {
        return new LmFisher.Spec(samples, sampled, batched ? ctx.batchSize() : 1, ctx.seqLen(),
                seed);
    }

    /** Estimates a Fisher with {@code estimate} and consolidates it, counting its cost. */
    private void consolidate(TrainContext ctx, int samples,
            java.util.function.Function<NDManager, Map<String, NDArray>> estimate) {
        long t0 = System.nanoTime();
        try (NDManager tmp = ctx.model().manager().newSubManager()) {
            penalty.consolidate(covered(ctx), estimate.apply(tmp));
        }
        ctx.addSeconds(Phase.FISHER, (System.nanoTime() - t0) / 1e9);
        ctx.addTokenPasses(2L * samples * ctx.seqLen()); // forward and backward
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
