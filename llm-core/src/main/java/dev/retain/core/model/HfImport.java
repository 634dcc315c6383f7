package dev.retain.core.model;

import dev.retain.core.UserError;
import dev.retain.core.util.AtomicFiles;
import dev.retain.core.util.DirectOut;
import dev.retain.core.util.Json;
import dev.retain.core.util.SequentialOut;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code retain import}: a Hugging Face GPT-2 folder ({@code config.json}, {@code
 * model.safetensors} or {@code pytorch_model.bin}, {@code tokenizer.json}) as a TorchScript model
 * that every retain command loads, and {@code torch.jit.load} too.
 *
 * <p>The weights' names may have the {@code transformer.} prefix ({@code save_pretrained}) or not
 * (the hub's {@code gpt2}); the causal-mask buffers of older files ({@code h.N.attn.bias}, {@code
 * h.N.attn.masked_bias}) are left out (the forward computes the mask); a tied model's {@code
 * lm_head.weight}, where a file has one, is left out too, as {@code from_pretrained} ties the head
 * to {@code wte}. Every other tensor must be one of {@code GPT2LMHeadModel}'s, and every one of
 * them must be there, of the shape {@code config.json} gives: all of this is checked before
 * anything is written. The model's parameters then have GPT-2's names ({@code
 * transformer.h.N...}), as in a model exported from PyTorch.
 */
public final class HfImport {

    private static final Pattern BLOCK = Pattern.compile("h\\.(\\d+)\\.(.+)");
    private static final Pattern BUFFER = Pattern.compile("h\\.\\d+\\.attn\\.(bias|masked_bias)");

    private HfImport() {}

    /**
     * What an import wrote.
     *
     * @param model the TorchScript file
     * @param config the configuration read
     * @param parameters the number of trainable values (a tied matrix once)
     * @param dtypes the element types of the weights read (e.g. {@code [F16]})
     * @param left names of the file's tensors left out (mask buffers, a tied head's copy)
     * @param tokenizer the tokenizer.json written beside the model, or null when the folder had
     *     none
     */
    public record Result(Path model, HfConfig config, long parameters, List<String> dtypes,
            List<String> left, Path tokenizer) {}

    /**
     * Imports a Hugging Face GPT-2 folder: writes {@code out} (TorchScript) and, beside it, {@code
     * config.json} (the folder's, with {@code retain_output}, {@code retain_lm_head_shared} and
     * {@code retain_import} added) and the folder's {@code tokenizer.json}. Each file is written
     * in full under a temporary name first and renamed only when all are complete, the model
     * last: a refused or failed import leaves nothing at {@code out}.
     *
     * @param folder the Hugging Face folder
     * @param out the {@code .pt} file to write
     * @return what was written
     * @throws UserError naming the file and what is wrong with it
     * @throws IOException when reading or writing fails
     */
    public static Result run(Path folder, Path out) throws IOException {
        checkOut(folder, out);
        TorchScriptTemplate template = TorchScriptTemplate.load();
        try (HfCheckpoint ckpt = HfCheckpoint.open(folder)) {
            HfConfig cfg = ckpt.config();
            List<String> left = new ArrayList<>();
            Map<String, ImportArchive.Param> params = plan(cfg, ckpt, left);
            Path dir = out.toAbsolutePath().getParent();
            Path tokenizer = folder.resolve(ModelInputs.TOKENIZER_FILE);
            boolean hasTokenizer = Files.isRegularFile(tokenizer);
            long count = params.values().stream().mapToLong(p -> p.source().numel()).sum();
            try (AtomicFiles.Pending model = AtomicFiles.open(out);
                    AtomicFiles.Pending config = AtomicFiles.open(dir.resolve(HfFolder.CONFIG));
                    AtomicFiles.Pending tok = AtomicFiles.open(dir.resolve(
                            ModelInputs.TOKENIZER_FILE))) {
                try (SequentialOut o = DirectOut.open(model.file(), model.channel(),
                        count * Float.BYTES, out)) {
                    ImportArchive.write(o, cfg, params, template);
                }
                config.stream().write(Json.MAPPER.writerWithDefaultPrettyPrinter()
                        .writeValueAsBytes(config(cfg, folder, ckpt)));
                if (hasTokenizer) {
                    Files.copy(tokenizer, tok.stream());
                    tok.commit();
                }
                config.commit();
                model.commit();
            }
            TreeSet<String> dtypes = new TreeSet<>();
            params.values().forEach(p -> dtypes.add(p.source().dtype()));
            return new Result(out, cfg, count, List.copyOf(dtypes), left,
                    hasTokenizer ? dir.resolve(ModelInputs.TOKENIZER_FILE) : null);
        }
    }

    private static void checkOut(Path folder, Path out) throws IOException {
        if (Files.isDirectory(out)) {
            throw new UserError("--out " + out + " is a folder; give the .pt file to write, e.g. "
                    + out.resolve(HfFolder.TORCHSCRIPT));
        }
        Path dir = out.toAbsolutePath().normalize().getParent();
        if (Files.isDirectory(folder) && Files.isDirectory(dir)
                && Files.isSameFile(dir, folder.toAbsolutePath())) {
            throw new UserError("--out " + out + " is inside the Hugging Face folder " + folder
                    + "; its config.json would be replaced: choose another folder");
        }
    }

    /**
     * Matches the file's tensors to GPT-2's parameters: every one present once, of the shape the
     * configuration gives, F32, F16 or BF16; nothing else but the mask buffers and a tied head.
     */
    static Map<String, ImportArchive.Param> plan(HfConfig cfg, HfCheckpoint ckpt,
            List<String> left) {
        Path file = ckpt.files().get(0).path();
        Map<String, WeightFile.Stored> byName = new LinkedHashMap<>();
        for (WeightFile.Stored t : ckpt.tensors().values()) {
            String n = t.name();
            String bare = n.startsWith(HfGpt2.PREFIX) ? n.substring(HfGpt2.PREFIX.length()) : n;
            if (BUFFER.matcher(bare).matches() || n.equals(HfGpt2.LM_HEAD) && cfg.tied()) {
                left.add(n);
                continue;
            }
            String name = n.equals(HfGpt2.LM_HEAD) ? n : HfGpt2.PREFIX + bare;
            if (!known(bare, cfg) && !n.equals(HfGpt2.LM_HEAD)) {
                throw new UserError(t.file().path() + ": tensor " + n + " is not one of"
                        + " GPT2LMHeadModel's (wte, wpe, h.N.*, ln_f, lm_head; config.json: n_layer "
                        + cfg.nLayer() + "); this is not a GPT-2 checkpoint of that shape");
            }
            if (byName.put(name, t) != null) {
                throw new UserError(t.file().path() + ": tensor " + name + " is there twice"
                        + " (with and without the transformer. prefix); the file is not one"
                        + " model's");
            }
        }
        Map<String, ImportArchive.Param> params = new LinkedHashMap<>();
        List<String> names = HfGpt2.names(cfg.nLayer(), !cfg.tied());
        for (String name : names) {
            WeightFile.Stored t = byName.get(name);
            long[] want = shape(name, cfg);
            if (t == null) {
                throw new UserError(file + ": tensor " + name + " is missing (a GPT-2 of"
                        + " config.json's n_layer " + cfg.nLayer() + (cfg.tied() ? "" : ", untied")
                        + " has " + names.size() + " parameters); the file is incomplete or not"
                        + " this model's");
            }
            if (!Arrays.equals(t.shape(), want)) {
                throw new UserError(t.file().path() + ": tensor " + t.name() + " has shape "
                        + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(want)
                        + " for config.json's n_embd " + cfg.nEmbd() + ", vocab_size "
                        + cfg.vocabSize() + ", n_positions " + cfg.nPositions()
                        + " (Conv1D weights are [in, out]); the weights are not this config's");
            }
            if (!List.of("F32", "F16", "BF16").contains(t.dtype())) {
                throw new UserError(t.file().path() + ": tensor " + t.name() + " is "
                        + t.dtype() + "; a GPT-2 parameter must be F32, F16 or BF16");
            }
            params.put(name, new ImportArchive.Param(name, want, t));
        }
        return params;
    }

    /** Whether a name without prefix is a GPT-2 parameter of this configuration. */
    private static boolean known(String bare, HfConfig cfg) {
        Matcher m = BLOCK.matcher(bare);
        if (m.matches()) {
            return m.group(1).length() < 7 && Integer.parseInt(m.group(1)) < cfg.nLayer()
                    && HfGpt2.BLOCK.contains(m.group(2));
        }
        return List.of("wte.weight", "wpe.weight", "ln_f.weight", "ln_f.bias").contains(bare);
    }

    /** The shape of a GPT-2 parameter under a configuration. */
    private static long[] shape(String name, HfConfig c) {
        long d = c.nEmbd();
        if (name.equals(HfGpt2.WTE) || name.equals(HfGpt2.LM_HEAD)) {
            return new long[] {c.vocabSize(), d};
        }
        if (name.equals("transformer.wpe.weight")) {
            return new long[] {c.nPositions(), d};
        }
        String b = name.startsWith("transformer.h.") ? name.substring(name.indexOf('.',
                "transformer.h.".length()) + 1) : "";
        return switch (b) {
            case "attn.c_attn.weight" -> new long[] {d, 3 * d};
            case "attn.c_attn.bias" -> new long[] {3 * d};
            case "attn.c_proj.weight" -> new long[] {d, d};
            case "mlp.c_fc.weight" -> new long[] {d, c.nInner()};
            case "mlp.c_fc.bias" -> new long[] {c.nInner()};
            case "mlp.c_proj.weight" -> new long[] {c.nInner(), d};
            default -> new long[] {d}; // LayerNorms, c_proj biases, ln_f
        };
    }

    /** The folder's config.json with what retain's model contract adds. */
    private static ObjectNode config(HfConfig cfg, Path folder, HfCheckpoint ckpt) {
        ObjectNode c = cfg.json().deepCopy();
        c.put("retain_output", OutputForm.LOGITS.label());
        c.put("retain_lm_head_shared", cfg.tied());
        ObjectNode from = c.putObject("retain_import");
        from.put("folder", folder.toAbsolutePath().normalize().toString());
        var files = from.putArray("weights");
        ckpt.files().forEach(f -> files.add(f.path().getFileName().toString()));
        return c;
    }
}
