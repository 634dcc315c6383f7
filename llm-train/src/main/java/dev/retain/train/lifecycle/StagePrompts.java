package dev.retain.train.lifecycle;

import dev.retain.core.UserError;
import dev.retain.core.text.GptTokenizer;
import dev.retain.eval.generate.PromptSet;
import dev.retain.eval.generate.Prompts;
import dev.retain.eval.generate.Sampling;
import dev.retain.eval.results.Generations;
import dev.retain.train.config.CommonKeys;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyGroup;
import dev.retain.train.config.Settings;
import dev.retain.train.plugin.Phase;
import dev.retain.train.plugin.TrainContext;

import java.nio.file.Path;
import java.util.List;

/**
 * The model's own words ({@code --prompts}): after the base evaluation and after every stage's,
 * each prompt's continuation by the model as it is then, into results.json ({@link
 * Generations}). Part of the stage evaluation ({@link StageEvaluation}); its time counts as
 * evaluation. A resumed run keeps the prompts its results.json already holds.
 */
public final class StagePrompts {

    /** How continuations are made; {@code retain generate} takes the same keys. */
    public static final KeyGroup KEYS = new KeyGroup();
    /** The prompts file. */
    public static final Key<String> PROMPTS = KEYS.add(Key.text("prompts", "", "prompts to"
            + " continue after the base evaluation and after every stage (results.json and the"
            + " report show each one's continuation): one a line, or JSON Lines with a \"prompt\""
            + " field").metavar("FILE"));
    /** The most tokens a continuation adds. */
    public static final Key<Integer> MAX_NEW_TOKENS = KEYS.add(Key.integer("max-new-tokens", 40,
            1, "tokens", "the most tokens a continuation adds (it stops earlier at"
                    + " <|endoftext|>)").max(1 << 16));
    /** Sample instead of greedy. */
    public static final Key<Boolean> SAMPLE = KEYS.add(Key.flag("sample", "sample each token"
            + " (top-k, top-p, temperature, seeded by --seed) instead of taking the most likely"
            + " (greedy, the default)"));
    /** Draw among this many most likely tokens. */
    public static final Key<Integer> TOP_K = KEYS.add(Key.integer("top-k", 40, 0, "tokens",
            "with --sample: draw among this many most likely tokens, 0 = all").max(1 << 24));
    /** Draw among the most likely tokens up to this much probability. */
    public static final Key<Double> TOP_P = KEYS.add(Key.real("top-p", 1.0, 0, true, "with"
            + " --sample: draw among the most likely tokens up to this much probability, 1 ="
            + " all").max(1));
    /** Divides the logits. */
    public static final Key<Double> TEMPERATURE = KEYS.add(Key.real("temperature", 1.0, 0, true,
            "with --sample: divides the logits").max(1e6));

    private final PromptSet set;

    private StagePrompts(PromptSet set) {
        this.set = set;
    }

    /**
     * @param s settings holding {@link #KEYS} and a seed
     * @param seed the seed of sampled continuations
     * @return how tokens are chosen
     */
    public static Sampling sampling(Settings s, long seed) {
        return s.get(SAMPLE) ? new Sampling(true, s.get(TOP_K), s.get(TOP_P),
                s.get(TEMPERATURE), seed) : Sampling.GREEDY;
    }

    /**
     * The run's prompts: those its results already hold (a resumed run), else the file's.
     *
     * @param s the run's settings
     * @param recorded the results' continuations so far, or null
     * @return the prompts, or null when the run has none
     * @throws UserError when the file cannot be read
     */
    static StagePrompts of(Settings s, Generations.Table recorded) {
        String file = s.get(PROMPTS);
        if (file.isEmpty()) {
            return null;
        }
        List<String> prompts = recorded != null ? recorded.prompts() : Prompts.read(Path.of(file));
        return new StagePrompts(new PromptSet(prompts, sampling(s, s.get(CommonKeys.SEED)),
                s.get(MAX_NEW_TOKENS)));
    }

    /**
     * Continues every prompt with the model as it is now and records it as a results row.
     *
     * @param ctx the run
     * @param tok the run's tokenizer
     * @param row the results row (0 = base model)
     * @param label the row's label
     */
    void record(TrainContext ctx, GptTokenizer tok, int row, String label) {
        long t0 = System.nanoTime();
        Generations.Row r = set.continueAll(ctx.model(), tok, row, label);
        Generations.add(ctx.results(), set.sampling().describe(), set.maxNewTokens(),
                set.prompts(), r);
        ctx.addSeconds(Phase.EVAL, (System.nanoTime() - t0) / 1e9);
    }
}
