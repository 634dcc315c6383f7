package dev.retain.cli;

import dev.retain.core.Engines;
import dev.retain.core.UserError;
import dev.retain.core.model.CausalLm;
import dev.retain.core.model.ModelInputs;
import dev.retain.core.model.ModelSource;
import dev.retain.core.model.PrecisionChoice;
import dev.retain.core.text.Domain;
import dev.retain.core.text.DomainSource;
import dev.retain.core.text.GptTokenizer;
import dev.retain.core.text.SourceOptions;
import dev.retain.core.text.Split;
import dev.retain.train.config.CommonKeys;
import dev.retain.train.config.Key;
import dev.retain.train.config.Settings;
import dev.retain.train.config.SourceSettings;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What several commands take alike, in one place: the model and its tokenizer, device and
 * context; how sources are read; which split; the quiet flag. Commands share these through here,
 * not through each other.
 */
final class Inputs {

    private Inputs() {}

    /** The model file. */
    static final Key<Path> MODEL = Key.path("model", "M.pt", "TorchScript causal LM"
            + " (forward(input_ids) returns logits or a tuple starting with them)").mandatory();
    /** Its tokenizer. */
    static final Key<Path> TOKENIZER = Key.path("tokenizer", "T.json", "Hugging Face"
            + " tokenizer.json").shown("tokenizer.json beside the model");
    /** The context when the model does not say it. */
    static final Key<Integer> CONTEXT = Key.integer("context", 0, 1, "", "context length in"
            + " tokens when the model has no config.json and no transformer.wpe.weight")
            .shown("from the model").max(1 << 20);
    /** No progress lines. */
    static final Key<Boolean> QUIET = Key.flag("quiet", "no progress on stderr");

    /**
     * The model, its tokenizer, the device, the context and the precision, as {@code retain
     * eval} takes them.
     */
    static final List<Key<?>> MODEL_KEYS = List.of(MODEL, TOKENIZER, CommonKeys.DEVICE, CONTEXT,
            CommonKeys.PRECISION);

    /**
     * @param v a command's values (of {@link #MODEL_KEYS})
     * @return the model, on the chosen device
     */
    static CausalLm model(Settings v) {
        return CausalLm.load(ModelSource.resolve(v.get(MODEL)),
                Engines.device(v.get(CommonKeys.DEVICE)), v.get(CONTEXT));
    }

    /**
     * Puts the model in the precision {@code --precision} resolves to, and says which on stderr
     * (unless quiet).
     *
     * @param v a command's values (of {@link #MODEL_KEYS})
     * @param lm the model
     * @param window the tokens of a window (what {@code auto} measures on)
     * @param work what the command does with the model (what {@code auto} measures)
     * @param progress whether to say it
     * @return the choice
     */
    static PrecisionChoice precision(Settings v, CausalLm lm, int window,
            PrecisionChoice.Work work, boolean progress) {
        PrecisionChoice c = PrecisionChoice.apply(v.get(CommonKeys.PRECISION), lm, window, work);
        if (progress) {
            System.err.println(c.describe());
        }
        return c;
    }

    /**
     * @param v a command's values (of {@link #MODEL_KEYS})
     * @param lm the model
     * @return its tokenizer, checked against it
     */
    static GptTokenizer tokenizer(Settings v, CausalLm lm) {
        return ModelInputs.loadTokenizer(ModelInputs.tokenizer(v.get(TOKENIZER), lm.source()),
                lm);
    }

    /**
     * How a command's sources are read and split, where {@code --split} names the split to
     * score and the shares are {@code --split-shares} ({@link SourceSettings#KEYS_BESIDE_SPLIT}).
     *
     * @param v the command's values
     * @return the options
     */
    static SourceOptions sources(Settings v) {
        Map<String, Object> given = new LinkedHashMap<>();
        for (Key<?> k : SourceSettings.KEYS_BESIDE_SPLIT) {
            if (v.has(k)) {
                given.put(k.name(), v.get(k));
            }
        }
        return SourceSettings.from(given, "--split-shares");
    }

    /**
     * Makes a source usable, printing on stderr how many bad lines it skipped.
     *
     * @param d the source
     * @param progress show a progress line while it is split
     * @return its split folder
     */
    static Domain open(DomainSource d, boolean progress) {
        DomainSource.Prepared p = d.open(progress);
        if (p.warning() != null) {
            System.err.println(p.warning());
        }
        return p.domain();
    }

    /**
     * @param s {@code train}, {@code valid} or {@code test}
     * @return the split
     */
    static Split split(String s) {
        for (Split sp : Split.values()) {
            if (sp.label().equals(s.toLowerCase(Locale.ROOT))) {
                return sp;
            }
        }
        throw new UserError("--split " + s + ": expected train, valid or test");
    }
}
