package dev.retain.cli;

import dev.retain.core.model.HfConfig;
import dev.retain.core.model.HfImport;
import dev.retain.train.config.CommonKeys;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;

import org.apache.commons.cli.CommandLine;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code retain import HF_FOLDER --out MODEL.pt}: a Hugging Face GPT-2 folder as a TorchScript
 * model, without Python ({@link HfImport}).
 */
final class ImportCommand implements Command {

    @Override
    public String name() {
        return "import";
    }

    @Override
    public String usage() {
        return "import HF_FOLDER --out MODEL.pt";
    }

    @Override
    public String summary() {
        return "turn a Hugging Face GPT-2 folder (config.json, model.safetensors) into a"
                + " TorchScript model";
    }

    @Override
    public String footer() {
        return "HF_FOLDER is a GPT-2 as the Hugging Face hub has it: config.json, the weights"
                + " (model.safetensors, else pytorch_model.bin in torch's zip format, or the"
                + " shards of their index.json; F32, F16 or BF16, names with or without the"
                + " transformer. prefix) and tokenizer.json. MODEL.pt gets GPT2LMHeadModel's"
                + " parameter names (transformer.h.N...; a tied lm_head is one tensor), computes"
                + " in float32, and opens in every retain command and in torch.jit.load;"
                + " config.json and tokenizer.json are written beside it. Supported config:"
                + " any sizes, layer_norm_epsilon, activation_function "
                + String.join("/", HfConfig.ACTIVATIONS) + "; other variants of the forward are"
                + " refused, naming the key. Nothing is left at MODEL.pt when the import is"
                + " refused or fails. Every --model also takes HF_FOLDER itself: it is then"
                + " imported once into ~/.cache/retain/models (RETAIN_CACHE moves it).";
    }

    private static final Key<Path> OUT = CommonKeys.OUT.metavar("MODEL.pt").help("the"
            + " TorchScript file to write (its folder gets config.json and tokenizer.json)")
            .mandatory();

    /** The options. */
    static final KeyTable KEYS = KeyTable.of(OUT);

    @Override
    public KeyTable keys() {
        return KEYS;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        Path folder = Path.of(Opts.single(cl, this, "Hugging Face folder", ""));
        Settings v = Opts.values(KEYS, cl);
        long start = System.nanoTime();
        HfImport.Result r = HfImport.run(folder, v.get(OUT));
        double seconds = (System.nanoTime() - start) / 1e9;
        HfConfig c = r.config();
        out.printf(Locale.ROOT, "%s  %,d bytes%n", r.model(), Files.size(r.model()));
        out.printf(Locale.ROOT, "GPT-2: n_embd %d, n_layer %d, n_head %d, vocab %d, context %d,"
                + " %s, %s lm_head; %,d parameters from %s, now float32%n", c.nEmbd(), c.nLayer(),
                c.nHead(), c.vocabSize(), c.nPositions(), c.activation(),
                c.tied() ? "tied" : "untied", r.parameters(), String.join("+", r.dtypes()));
        if (!r.left().isEmpty()) {
            out.printf(Locale.ROOT, "left out: %d tensors that are not parameters (%s%s)%n",
                    r.left().size(), r.left().get(0), r.left().size() > 1 ? ", ..." : "");
        }
        out.println(r.tokenizer() != null ? "tokenizer: " + r.tokenizer()
                : "tokenizer: none in " + folder + "; give --tokenizer to the commands");
        out.printf(Locale.ROOT, "imported in %.1f s%n", seconds);
        return 0;
    }
}
