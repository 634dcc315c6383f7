package dev.retain.cli;

import dev.retain.core.Engines;
import dev.retain.core.UserError;
import dev.retain.core.model.CausalLm;
import dev.retain.core.model.HfFolder;
import dev.retain.core.model.HfGpt2;
import dev.retain.core.model.ModelInputs;
import dev.retain.core.model.ModelSource;
import dev.retain.core.text.GptTokenizer;
import dev.retain.core.util.Json;
import dev.retain.core.util.OutputPaths;
import dev.retain.train.RunSetup;
import dev.retain.train.config.CommonKeys;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.commons.cli.CommandLine;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code retain export MODEL.pt --out DIR}: a model as a Hugging Face GPT-2 folder ({@code
 * model.safetensors}, {@code config.json}, {@code tokenizer.json}), or as a retain model folder
 * ({@code model.pt} beside the same two files), or both.
 */
final class ExportCommand implements Command {

    /** The Hugging Face weights file. */
    static final String SAFETENSORS = HfFolder.SAFETENSORS;
    /** The TorchScript copy. */
    static final String TORCHSCRIPT = HfFolder.TORCHSCRIPT;
    /** The configuration. */
    static final String CONFIG = HfFolder.CONFIG;

    @Override
    public String name() {
        return "export";
    }

    @Override
    public String usage() {
        return "export MODEL.pt --out DIR [--format safetensors|torchscript|both] [--tokenizer"
                + " T.json] [--n-head N]";
    }

    @Override
    public String summary() {
        return "write a model as a Hugging Face GPT-2 folder (model.safetensors, config.json)";
    }

    @Override
    public String footer() {
        return "DIR gets config.json (Hugging Face GPT2Config keys), tokenizer.json, and"
                + " model.safetensors (safetensors: the parameters under GPT2LMHeadModel's names,"
                + " transformer.wte.weight ... lm_head.weight; a tied lm_head is stored once as"
                + " transformer.wte.weight, tie_word_embeddings true) and/or model.pt (torchscript:"
                + " the .pt file as it is). In Python: GPT2LMHeadModel.from_pretrained(DIR) and"
                + " AutoTokenizer.from_pretrained(DIR). Files are written in full first, then"
                + " renamed into DIR; other files in DIR are left as they are.";
    }

    private static final Key<Path> OUT = CommonKeys.OUT.help("the folder to write (created when"
            + " missing)").mandatory();
    private static final Key<String> FORMAT = Key.choice("format", "safetensors",
            List.of("safetensors", "torchscript", "both"), "safetensors: model.safetensors for"
                    + " Hugging Face; torchscript: the .pt copied as model.pt; both");
    private static final Key<Path> TOKENIZER = Inputs.TOKENIZER.help("Hugging Face"
            + " tokenizer.json copied into DIR").shown("tokenizer.json beside the model, else the"
            + " run's (run.json)");
    private static final Key<Integer> N_HEAD = Key.integer("n-head", 0, 1, "", "attention heads,"
            + " written to config.json (not in any parameter's shape)").metavar("N")
            .shown("the model's own n_head, else config.json beside it").max(1 << 16);
    private static final Key<String> DEVICE = CommonKeys.DEVICE.dflt("cpu");

    /** The options. */
    static final KeyTable KEYS = KeyTable.of(OUT, FORMAT, TOKENIZER, N_HEAD, DEVICE);

    @Override
    public KeyTable keys() {
        return KEYS;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        Path model = ModelSource.resolve(Path.of(Opts.single(cl, this, "model file", "")));
        Settings v = Opts.values(KEYS, cl);
        Path dir = v.get(OUT);
        String format = v.get(FORMAT);
        boolean safetensors = !format.equals("torchscript");
        boolean torchscript = !format.equals("safetensors");
        try (CausalLm lm = CausalLm.load(model, Engines.device(v.get(DEVICE)), 0)) {
            if (Files.isDirectory(dir) && Files.isSameFile(dir, model.toAbsolutePath()
                    .getParent())) {
                throw new UserError("--out " + dir + " is the model's own folder; its "
                        + CONFIG + " would be replaced: choose another folder");
            }
            // Every check before anything is created: a refused model leaves no empty DIR.
            HfGpt2 hf = HfGpt2.of(lm, v.get(N_HEAD));
            ObjectNode config;
            Path tokFile;
            try (GptTokenizer tok = ModelInputs.loadTokenizer(tokenizer(v.get(TOKENIZER),
                    model), lm)) {
                config = hf.config(tok.eosId());
                tokFile = tok.file();
            }
            boolean existed = Files.exists(dir);
            OutputPaths.folder(dir, "--out");
            if (torchscript) {
                // model.pt is the file as it is: these describe it for retain (the model contract)
                config.put("retain_output", lm.outputForm().label());
                config.put("retain_lm_head_shared", hf.tied());
            }
            ObjectNode from = config.putObject("retain_export");
            from.put("model", model.toString());
            from.put("tokenizer", tokFile.toString());
            from.put("format", format);
            from.put("n_head_from", hf.nHeadFrom());
            List<String> written;
            try {
                written = HfFolder.write(dir, torchscript ? model : null, tokFile, config,
                        safetensors ? hf : null);
            } catch (java.io.IOException e) {
                OutputPaths.removeIfMadeAndEmpty(dir, existed);
                throw e;
            }
            for (String f : written) {
                out.printf(Locale.ROOT, "%s  %,d bytes%n", dir.resolve(f),
                        Files.size(dir.resolve(f)));
            }
            out.printf(Locale.ROOT, "GPT-2: n_embd %d, n_layer %d, n_head %d (%s), vocab %d,"
                    + " context %d, %s%n", hf.nEmbd(), hf.nLayer(), hf.nHead(), hf.nHeadFrom(),
                    hf.vocabSize(), hf.nPositions(), hf.tied() ? "tied lm_head (stored as "
                    + HfGpt2.WTE + ")" : "untied lm_head");
            if (safetensors) {
                out.println("load with: GPT2LMHeadModel.from_pretrained(\"" + dir + "\")");
            }
        }
        return 0;
    }

    /**
     * The tokenizer to copy: the one given, else the one beside the model, else, for a stage
     * model inside a run folder (or a checkpoint's model below one), the run's own, as its
     * {@code run.json} names it.
     */
    static Path tokenizer(Path given, Path model) {
        if (given != null || Files.isRegularFile(ModelInputs.tokenizerBeside(model))) {
            return ModelInputs.tokenizer(given, model);
        }
        Path dir = model.toAbsolutePath().getParent();
        for (int up = 0; dir != null && up < 3; up++, dir = dir.getParent()) {
            Path run = dir.resolve(RunSetup.FILE);
            if (Files.isRegularFile(run)) {
                JsonNode tok;
                try {
                    tok = Json.MAPPER.readTree(run.toFile()).get("tokenizer");
                } catch (java.io.IOException e) {
                    throw new UserError(run + ": unreadable (" + e.getMessage() + "); give"
                            + " --tokenizer", e);
                }
                Path t = tok == null || !tok.isTextual() ? null : Path.of(tok.asText());
                if (t == null || !Files.isRegularFile(t)) {
                    throw new UserError("--tokenizer is required: " + run + " names the"
                            + " tokenizer " + tok + ", which is not there any more");
                }
                return t;
            }
        }
        return ModelInputs.tokenizer(null, model);
    }
}
