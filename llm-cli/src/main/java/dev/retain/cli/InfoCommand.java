package dev.retain.cli;

import dev.retain.core.Engines;
import dev.retain.core.model.CausalLm;
import dev.retain.core.model.ModelSource;
import dev.retain.core.util.Json;
import dev.retain.core.util.OutputPaths;
import dev.retain.train.config.CommonKeys;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.commons.cli.CommandLine;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** {@code retain info MODEL}: what a TorchScript causal LM is. */
final class InfoCommand implements Command {

    @Override
    public String name() {
        return "info";
    }

    @Override
    public String usage() {
        return "info MODEL.pt [--json FILE] [--params]";
    }

    @Override
    public String summary() {
        return "show a model's parameters, vocabulary, context and output form";
    }

    private static final Key<Path> JSON = Key.path("json", "FILE", "also write the facts as"
            + " JSON");
    private static final Key<Boolean> PARAMS = Key.flag("params", "list every parameter tensor"
            + " with its shape");
    private static final Key<String> DEVICE = CommonKeys.DEVICE.dflt("cpu");

    /** The options: the device and context as every model-using command takes them. */
    static final KeyTable KEYS = KeyTable.of(JSON, PARAMS, DEVICE, Inputs.CONTEXT);

    @Override
    public KeyTable keys() {
        return KEYS;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        Path file = ModelSource.resolve(Path.of(Opts.single(cl, this, "model file", "")));
        Settings v = Opts.values(KEYS, cl);
        if (v.has(JSON)) {
            OutputPaths.file(v.get(JSON), "--json");
        }
        try (CausalLm lm = CausalLm.load(file, Engines.device(v.get(DEVICE)),
                v.get(Inputs.CONTEXT))) {
            var c = lm.config();
            out.printf(Locale.ROOT, "model        %s%n", file);
            out.printf(Locale.ROOT, "file size    %.1f MB%n", Files.size(file) / 1e6);
            out.printf(Locale.ROOT, "parameters   %,d (%d tensors%s)%n", lm.parameterCount(),
                    lm.parameters().size(), lm.tiedNames().isEmpty() ? ""
                            : "; tied: " + String.join(", ", lm.tiedNames()));
            out.printf(Locale.ROOT, "vocabulary   %d (from the logits)%n", lm.vocabSize());
            out.printf(Locale.ROOT, "context      %d tokens (from %s)%n", lm.context(), c.source());
            if (c.nEmbd() > 0) {
                out.printf(Locale.ROOT, "shape        n_embd %d, n_layer %d, n_head %d%n",
                        c.nEmbd(), c.nLayer(), c.nHead());
            }
            out.printf(Locale.ROOT, "output       %s%n", lm.outputForm().label());
            out.printf(Locale.ROOT, "device       %s%n", lm.device());
            if (v.get(PARAMS)) {
                for (var p : lm.parameters()) {
                    out.printf(Locale.ROOT, "  %-48s %s%n", p.name(), p.array().getShape());
                }
            }
            if (v.has(JSON)) {
                ObjectNode n = Json.object();
                n.put("model", file.toString());
                n.put("file_bytes", Files.size(file));
                n.put("parameters", lm.parameterCount());
                n.put("tensors", lm.parameters().size());
                n.putPOJO("tied", lm.tiedNames());
                n.put("vocab_size", lm.vocabSize());
                n.put("n_positions", lm.context());
                n.put("context_source", c.source());
                n.put("n_embd", c.nEmbd());
                n.put("n_layer", c.nLayer());
                n.put("n_head", c.nHead());
                n.put("output", lm.outputForm().label());
                n.put("device", lm.device().toString());
                Json.write(v.get(JSON), n);
            }
        }
        return 0;
    }
}
