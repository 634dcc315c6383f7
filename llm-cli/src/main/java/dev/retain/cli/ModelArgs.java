package dev.retain.cli;

import dev.retain.core.Engines;
import dev.retain.core.model.CausalLm;
import dev.retain.core.model.ModelInputs;
import dev.retain.core.text.GptTokenizer;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

import java.nio.file.Path;

/** The options every model-using command shares: model, tokenizer, device, context. */
final class ModelArgs {

    private ModelArgs() {}

    static void add(Options o) {
        o.addOption(Opts.required("model", "M.pt", "TorchScript causal LM (forward(input_ids)"
                + " returns logits or a tuple starting with them)"));
        o.addOption(Opts.value("tokenizer", "T.json", "Hugging Face tokenizer.json",
                "tokenizer.json beside the model"));
        o.addOption(Opts.value("device", "cpu|gpu|auto", "where to run; gpu needs a CUDA"
                + " libtorch via PYTORCH_LIBRARY_PATH", "auto"));
        o.addOption(Opts.value("context", "N", "context length in tokens when the model has no"
                + " config.json and no transformer.wpe.weight", "from the model"));
    }

    static CausalLm model(CommandLine cl) {
        Path model = Path.of(Opts.requireString(cl, "model"));
        int context = Opts.integer(cl, "context", 0, 1);
        return CausalLm.load(model, Engines.device(Opts.string(cl, "device", "auto")), context);
    }

    static GptTokenizer tokenizer(CommandLine cl, CausalLm lm) {
        return ModelInputs.loadTokenizer(ModelInputs.tokenizer(Opts.path(cl, "tokenizer"),
                lm.source()), lm);
    }
}
