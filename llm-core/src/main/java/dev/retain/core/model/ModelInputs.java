package dev.retain.core.model;

import dev.retain.core.UserError;
import dev.retain.core.text.GptTokenizer;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a model's inputs must agree with, checked the same way by every command: the tokenizer
 * (given, else the {@code tokenizer.json} beside the model), whose ids must fit the model's
 * vocabulary, and the window of tokens, which must fit the model's context. Each refusal is a
 * {@link UserError} naming the file or option, what is wrong and what to do.
 */
public final class ModelInputs {

    /** The tokenizer file looked for beside a model. */
    public static final String TOKENIZER_FILE = "tokenizer.json";

    /** How many more ids than the tokenizer's a model may have without a warning. */
    public static final int VOCAB_SLACK = 128;

    private ModelInputs() {}

    /**
     * @param model the model file, or a Hugging Face folder
     * @return where a tokenizer beside it would be ({@code tokenizer.json} in its folder, or in
     *     the Hugging Face folder itself), whether or not there is one
     */
    public static Path tokenizerBeside(Path model) {
        return Files.isDirectory(model) ? model.resolve(TOKENIZER_FILE)
                : model.toAbsolutePath().getParent().resolve(TOKENIZER_FILE);
    }

    /**
     * The tokenizer a model is used with: the one given, else the one beside the model.
     *
     * @param given the tokenizer given ({@code --tokenizer}), or null
     * @param model the model file
     * @return the tokenizer file
     * @throws UserError when none is given and there is none beside the model
     */
    public static Path tokenizer(Path given, Path model) {
        if (given != null) {
            return given;
        }
        Path beside = tokenizerBeside(model);
        if (!Files.isRegularFile(beside)) {
            throw new UserError("--tokenizer is required: there is no tokenizer.json beside "
                    + model + " (GPT-2: datasets/tokenizers/gpt2/tokenizer.json)");
        }
        return beside;
    }

    /**
     * Loads a tokenizer and checks its ids fit the model's vocabulary.
     *
     * @param file the tokenizer file
     * @param lm the model
     * @return the tokenizer (closed again when the check fails)
     * @throws UserError when the file cannot be read or its ids do not fit
     */
    public static GptTokenizer loadTokenizer(Path file, CausalLm lm) {
        GptTokenizer tok = GptTokenizer.load(file);
        try {
            checkVocabulary(tok, lm);
        } catch (UserError e) {
            tok.close();
            throw e;
        }
        return tok;
    }

    /**
     * Refuses a tokenizer with more ids than the model has rows of logits, and warns (one line on
     * stderr) when it has far fewer: {@value #VOCAB_SLACK} or more of the model's ids that no text
     * can produce are a sign of the wrong tokenizer (models pad their vocabulary by less, e.g.
     * 50,304 for GPT-2's 50,257).
     *
     * @param tok the tokenizer
     * @param lm the model
     * @throws UserError naming the tokenizer file when {@code tok.vocabSize() > lm.vocabSize()}
     */
    public static void checkVocabulary(GptTokenizer tok, CausalLm lm) {
        if (lm.vocabSize() - tok.vocabSize() >= VOCAB_SLACK) {
            System.err.println("retain: warning: " + tok.file() + " has " + tok.vocabSize()
                    + " ids but the model's vocabulary has " + lm.vocabSize() + "; is it the"
                    + " tokenizer the model was trained with?");
        }
        if (tok.vocabSize() > lm.vocabSize()) {
            throw new UserError(tok.file() + ": the tokenizer has " + tok.vocabSize() + " ids but"
                    + " the model's vocabulary has " + lm.vocabSize() + "; use the tokenizer the"
                    + " model was trained with");
        }
    }

    /**
     * Refuses a batch too large for this machine before anything is allocated: a micro-batch of
     * {@code rows} windows of {@code seqLen} tokens has logits of {@code rows x seqLen x vocab}
     * floats, held twice during training (the logits and their gradient) and once more by the
     * loss; when that alone exceeds the machine's memory (or the token count does not fit an
     * array), the step cannot run.
     *
     * @param option the option that set the rows ({@code --batch-size})
     * @param rows windows per micro-batch
     * @param seqLen tokens per window
     * @param lm the model
     * @throws UserError naming the option, the memory needed and the memory there is
     */
    public static void checkBatch(String option, long rows, int seqLen, CausalLm lm) {
        long tokens = rows * seqLen;
        double need = 3.0 * tokens * lm.vocabSize() * Float.BYTES;
        long have = physicalMemory();
        if (tokens > Integer.MAX_VALUE || (have > 0 && need > have)) {
            throw new UserError(String.format(java.util.Locale.ROOT, "%s %d with windows of %d"
                    + " tokens is %,d tokens a micro-batch; its logits alone need %.1f GB (tokens x"
                    + " %d vocabulary x 4 bytes, 3 copies), more than this machine's %.1f GB;"
                    + " lower %s (--grad-accum gives a larger batch per step)", option, rows,
                    seqLen, tokens, need / 1e9, lm.vocabSize(), have / 1e9, option));
        }
    }

    private static long physicalMemory() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return -1;
    }

    /**
     * The window of tokens a model is run on: the one asked for, else the model's context.
     *
     * @param option the option that asked, for messages ({@code --window}, {@code --seq-len})
     * @param asked tokens per window; 0 for the model's context
     * @param lm the model
     * @return the window
     * @throws UserError when it is larger than the model's context or shorter than 2 tokens
     */
    public static int window(String option, int asked, CausalLm lm) {
        int window = asked > 0 ? asked : lm.context();
        if (window > lm.context()) {
            throw new UserError(option + " " + window + " is larger than the context of the model "
                    + lm.source() + " (" + lm.context() + " tokens); use " + option + " "
                    + lm.context() + " or less");
        }
        if (window < 2) {
            throw new UserError(option + " " + window + ": a window needs at least 2 tokens");
        }
        return window;
    }
}
