package dev.retain.cli;

import dev.retain.core.Engines;
import dev.retain.core.model.CausalLm;
import dev.retain.core.model.ModelInputs;
import dev.retain.core.model.ModelSource;
import dev.retain.core.text.GptTokenizer;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;

import java.nio.file.Path;
import java.util.List;

/** The options every model-using command shares: model, tokenizer, device, context. */
final class ModelArgs {

    private ModelArgs() {}

    /** The model, its tokenizer, the device and the context, as {@code retain eval} takes them. */
    static final List<Key> KEYS = List.of(
            Key.path("model", "M.pt", "TorchScript causal LM (forward(input_ids) returns logits or"
                    + " a tuple starting with them)").mandatory(),
            Key.path("tokenizer", "T.json", "Hugging Face tokenizer.json")
                    .shown("tokenizer.json beside the model"),
            device("auto", "where to run; gpu needs a CUDA libtorch via PYTORCH_LIBRARY_PATH"),
            Key.integer("context", 0, 1, "", "context length in tokens when the model has no"
                    + " config.json and no transformer.wpe.weight").shown("from the model"));

    /**
     * A device setting as {@link Engines#device} reads it (also {@code cuda}, {@code gpu:1}).
     *
     * @param dflt the default
     * @param help what it does
     * @return the key
     */
    static Key device(String dflt, String help) {
        return Key.text("device", dflt, help).metavar("cpu|gpu|auto");
    }

    static CausalLm model(KeyTable.Values v) {
        return CausalLm.load(ModelSource.resolve(v.path("model")), Engines.device(v.text("device")),
                v.integer("context"));
    }

    static GptTokenizer tokenizer(KeyTable.Values v, CausalLm lm) {
        return ModelInputs.loadTokenizer(ModelInputs.tokenizer(v.path("tokenizer"), lm.source()),
                lm);
    }
}
