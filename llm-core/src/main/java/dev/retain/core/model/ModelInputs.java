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

    private ModelInputs() {}

    /**
     * @param model the model file
     * @return where a tokenizer beside it would be ({@code tokenizer.json} in its folder), whether
     *     or not there is one
     */
    public static Path tokenizerBeside(Path model) {
        return model.toAbsolutePath().getParent().resolve(TOKENIZER_FILE);
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
     * Refuses a tokenizer with more ids than the model has rows of logits.
     *
     * @param tok the tokenizer
     * @param lm the model
     * @throws UserError naming the tokenizer file when {@code tok.vocabSize() > lm.vocabSize()}
     */
    public static void checkVocabulary(GptTokenizer tok, CausalLm lm) {
        if (tok.vocabSize() > lm.vocabSize()) {
            throw new UserError(tok.file() + ": the tokenizer has " + tok.vocabSize() + " ids but"
                    + " the model's vocabulary has " + lm.vocabSize() + "; use the tokenizer the"
                    + " model was trained with");
        }
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
