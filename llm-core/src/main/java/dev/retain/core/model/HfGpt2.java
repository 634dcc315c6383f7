package dev.retain.core.model;

import dev.retain.core.UserError;
import dev.retain.core.util.Json;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A loaded model as a Hugging Face {@code GPT2LMHeadModel}: its parameters under the names of
 * that model's {@code state_dict()}, checked name by name and shape by shape, and the numbers of
 * its {@code config.json}.
 *
 * <p>The TorchScript models retain loads already use those names and Hugging Face's Conv1D
 * layout ({@code c_attn.weight} is {@code [n_embd, 3 n_embd]}: {@code y = x W + b}), so each
 * tensor keeps its name and values. A tied output layer ({@code lm_head.weight} sharing {@code
 * transformer.wte.weight}'s storage) is written once, as {@code transformer.wte.weight}, with
 * {@code tie_word_embeddings: true} (how {@code save_pretrained} writes GPT-2); an untied one is
 * written as {@code lm_head.weight} with {@code tie_word_embeddings: false}.
 *
 * <p>The number of attention heads is not in any parameter's shape. It is, in this order: the
 * number given ({@code --n-head}); the {@code n_head} attribute of the attention blocks in the
 * TorchScript archive (a scripted model keeps it; a traced one does not); {@code n_head} in the
 * {@code config.json} beside the model. When the archive and the given number or the {@code
 * config.json} disagree, the model is refused.
 *
 * @param source the model file
 * @param vocabSize rows of {@code transformer.wte.weight}
 * @param nPositions rows of {@code transformer.wpe.weight}
 * @param nEmbd the width
 * @param nLayer transformer blocks
 * @param nHead attention heads
 * @param nHeadFrom where {@code nHead} came from, for {@code config.json} and messages
 * @param nInner the MLP's hidden width (4 n_embd in GPT-2)
 * @param tied whether {@code lm_head.weight} is {@code transformer.wte.weight}
 * @param tensors the tensors a {@code model.safetensors} holds, by name (the order safetensors'
 *     own writer uses), each the model's live parameter
 */
public record HfGpt2(java.nio.file.Path source, int vocabSize, int nPositions, int nEmbd,
        int nLayer, int nHead, String nHeadFrom, int nInner, boolean tied,
        List<NamedParameter> tensors) {

    /** The model's prefix of every name but {@code lm_head.weight}. */
    public static final String PREFIX = "transformer.";
    /** The token embedding, also the output layer of a tied model. */
    public static final String WTE = "transformer.wte.weight";
    /** The output layer's name. */
    public static final String LM_HEAD = "lm_head.weight";

    /** The parameters of block N after {@code transformer.h.N.}, in module order. */
    public static final List<String> BLOCK = List.of("ln_1.weight", "ln_1.bias",
            "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
            "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight",
            "mlp.c_proj.bias");

    private static final Pattern BLOCK_NAME = Pattern.compile("transformer\\.h\\.(\\d+)\\.(.+)");
    private static final Pattern ATTN = Pattern.compile("transformer\\.h\\.\\d+\\.attn");

    /** Copies the list. */
    public HfGpt2 {
        tensors = List.copyOf(tensors);
    }

    /**
     * Reads a loaded model as a Hugging Face GPT-2.
     *
     * @param lm the model
     * @param nHead the number of attention heads, or 0 to read it from the model
     * @return the layout
     * @throws UserError naming the first parameter that is not GPT-2's (unexpected, missing,
     *     or of the wrong shape), or when the number of heads cannot be determined
     */
    public static HfGpt2 of(CausalLm lm, int nHead) {
        HfGpt2 hf = layout(lm.source(), lm.parameters(), lm.tiedNames(), lm.vocabSize());
        Heads h = heads(lm, nHead, hf.nEmbd);
        return new HfGpt2(hf.source, hf.vocabSize, hf.nPositions, hf.nEmbd, hf.nLayer, h.n,
                h.from, hf.nInner, hf.tied, hf.tensors);
    }

    /**
     * Checks parameters against the GPT-2 layout and reads its shape: everything but the heads.
     *
     * @param source the model file, for messages
     * @param params the parameters in module order, each shared tensor once
     * @param tiedNames the tensors folded into another ({@code "a = b"})
     * @param vocab columns of the logits
     * @return the layout, with {@code nHead} 0
     * @throws UserError naming the first parameter that does not fit
     */
    static HfGpt2 layout(java.nio.file.Path source, List<NamedParameter> params,
            List<String> tiedNames, int vocab) {
        String file = source.toString();
        Map<String, NDArray> byName = new LinkedHashMap<>();
        for (NamedParameter p : params) {
            byName.put(p.name(), p.array());
        }
        boolean tied = false;
        for (String t : tiedNames) {
            String[] ab = t.split(" = ", 2);
            boolean headToWte = ab.length == 2 && (ab[0].equals(LM_HEAD) && ab[1].equals(WTE)
                    || ab[0].equals(WTE) && ab[1].equals(LM_HEAD));
            if (!headToWte) {
                throw new UserError(file + ": parameters " + t.replace(" = ", " and ")
                        + " share their storage; a Hugging Face GPT-2 ties only " + LM_HEAD
                        + " to " + WTE + ", so this model cannot be exported as one");
            }
            tied = true;
            byName.putIfAbsent(WTE, byName.remove(LM_HEAD));
        }
        int layers = 0;
        for (String name : byName.keySet()) {
            Matcher m = BLOCK_NAME.matcher(name);
            if (m.matches() && m.group(1).length() < 6) {
                layers = Math.max(layers, Integer.parseInt(m.group(1)) + 1);
            }
        }
        layers = Math.max(layers, 1); // none at all: transformer.h.0.* is reported missing
        Set<String> known = new HashSet<>(names(layers, true));
        for (String name : byName.keySet()) {
            if (!known.contains(name)) {
                throw new UserError(file + ": parameter " + name + " is not one of Hugging Face"
                        + " GPT2LMHeadModel's (transformer.wte/wpe/h.N.*/ln_f, lm_head); only a"
                        + " GPT-2 model can be exported in its layout");
            }
        }
        List<String> expected = names(layers, !tied);
        for (String name : expected) {
            if (!byName.containsKey(name)) {
                throw new UserError(file + ": parameter " + name + " is missing (a GPT-2 of "
                        + layers + " blocks has " + expected.size() + " tensors, as"
                        + " datasets/models/README.md lists them); only a complete GPT-2 can be"
                        + " exported in Hugging Face's layout");
            }
        }
        Shape wte = byName.get(WTE).getShape();
        Shape wpe = byName.get("transformer.wpe.weight").getShape();
        Shape fc = byName.get("transformer.h.0.mlp.c_fc.weight").getShape();
        if (wte.dimension() != 2 || wpe.dimension() != 2 || fc.dimension() != 2) {
            throw new UserError(file + ": " + WTE + " " + wte + ", transformer.wpe.weight " + wpe
                    + " and transformer.h.0.mlp.c_fc.weight " + fc + " must be matrices;"
                    + " this is not a GPT-2 model");
        }
        long v = wte.get(0);
        long d = wte.get(1);
        long inner = fc.get(1);
        if (v != vocab) {
            throw new UserError(file + ": " + WTE + " has " + v + " rows but the logits have "
                    + vocab + " columns; this is not a GPT-2 output layer");
        }
        DataType dtype = byName.get(WTE).getDataType();
        for (String name : expected) {
            NDArray a = byName.get(name);
            Shape want = expectedShape(name, v, wpe.get(0), d, inner);
            if (!a.getShape().equals(want) || a.getDataType() != dtype) {
                throw new UserError(file + ": parameter " + name + " is " + a.getDataType() + " "
                        + a.getShape() + ", expected " + dtype + " " + want + " for a GPT-2 of"
                        + " n_embd " + d + " (Conv1D weights are [in, out])");
            }
        }
        List<NamedParameter> tensors = new ArrayList<>();
        for (String name : expected) {
            tensors.add(new NamedParameter(name, byName.get(name)));
        }
        tensors.sort(Comparator.comparing(NamedParameter::name));
        return new HfGpt2(source, (int) v, (int) wpe.get(0), (int) d, layers, 0, "",
                (int) inner, tied, tensors);
    }

    /**
     * The Hugging Face GPT-2 parameter names, in module order.
     *
     * @param layers transformer blocks
     * @param lmHead whether to list {@code lm_head.weight} (an untied model)
     * @return the names
     */
    public static List<String> names(int layers, boolean lmHead) {
        List<String> out = new ArrayList<>(List.of(WTE, "transformer.wpe.weight"));
        for (int i = 0; i < layers; i++) {
            for (String b : BLOCK) {
                out.add("transformer.h." + i + "." + b);
            }
        }
        out.add("transformer.ln_f.weight");
        out.add("transformer.ln_f.bias");
        if (lmHead) {
            out.add(LM_HEAD);
        }
        return out;
    }

    private static Shape expectedShape(String name, long v, long p, long d, long inner) {
        if (name.equals(WTE) || name.equals(LM_HEAD)) {
            return new Shape(v, d);
        }
        if (name.equals("transformer.wpe.weight")) {
            return new Shape(p, d);
        }
        String b = name.startsWith("transformer.h.") ? name.substring(name.indexOf('.',
                "transformer.h.".length()) + 1) : "";
        return switch (b) {
            case "attn.c_attn.weight" -> new Shape(d, 3 * d);
            case "attn.c_attn.bias" -> new Shape(3 * d);
            case "attn.c_proj.weight" -> new Shape(d, d);
            case "mlp.c_fc.weight" -> new Shape(d, inner);
            case "mlp.c_fc.bias" -> new Shape(inner);
            case "mlp.c_proj.weight" -> new Shape(inner, d);
            default -> new Shape(d); // LayerNorms, c_proj biases, ln_f
        };
    }

    /** A number of heads and where it came from. */
    private record Heads(int n, String from) {}

    private static Heads heads(CausalLm lm, int given, int d) {
        String file = lm.source().toString();
        Map<String, Long> attrs;
        try {
            attrs = TorchScriptArchive.intAttributes(lm.source(), "n_head");
        } catch (IOException e) {
            attrs = Map.of(); // the file was loaded a moment ago; the other sources still count
        }
        TreeSet<Long> inModel = new TreeSet<>();
        attrs.forEach((path, n) -> {
            if (ATTN.matcher(path).matches()) {
                inModel.add(n);
            }
        });
        if (inModel.size() > 1) {
            throw new UserError(file + ": its attention blocks hold different n_head values "
                    + inModel + "; a GPT-2 has one number of heads");
        }
        Integer own = inModel.isEmpty() ? null : inModel.first().intValue();
        int cfg = lm.config().nHead();
        Heads h;
        if (given > 0) {
            if (own != null && own != given) {
                throw new UserError("--n-head " + given + " contradicts " + file + ", whose"
                        + " attention blocks compute with n_head " + own + "; leave --n-head out");
            }
            h = new Heads(given, "--n-head");
        } else if (own != null) {
            if (cfg > 0 && cfg != own) {
                throw new UserError(lm.config().source() + " says n_head " + cfg + " but the"
                        + " attention blocks of " + file + " compute with " + own + "; fix"
                        + " config.json, or pass --n-head " + own);
            }
            h = new Heads(own, "the n_head attribute of the model's attention blocks");
        } else if (cfg > 0) {
            h = new Heads(cfg, "config.json beside the model");
        } else {
            throw new UserError(file + ": the number of attention heads is unknown (no n_head in"
                    + " the TorchScript module, as in a traced one, and no config.json with"
                    + " n_head beside it); pass --n-head N (GPT-2 small 12, medium 16, large 20,"
                    + " xl 25)");
        }
        if (d % h.n != 0) {
            throw new UserError((h.from.equals("--n-head") ? "--n-head " + h.n : file + ": n_head "
                    + h.n + " (" + h.from + ")") + " does not divide n_embd " + d + "; give the"
                    + " model's number of heads");
        }
        return h;
    }

    /**
     * The Hugging Face {@code config.json} of this model, as {@code GPT2Config} names its keys:
     * the shape read from the parameters; GPT-2's fixed choices ({@code gelu_new}, LayerNorm
     * epsilon 1e-5, scaled attention); no dropout (retain trains without it).
     *
     * @param eosId the id of {@code <|endoftext|>} (also {@code bos_token_id}, as in GPT-2)
     * @return the configuration, keys in a fixed order
     */
    public ObjectNode config(int eosId) {
        ObjectNode c = Json.object();
        c.putArray("architectures").add("GPT2LMHeadModel");
        c.put("model_type", "gpt2");
        c.put("vocab_size", vocabSize);
        c.put("n_positions", nPositions);
        c.put("n_ctx", nPositions);
        c.put("n_embd", nEmbd);
        c.put("n_layer", nLayer);
        c.put("n_head", nHead);
        if (nInner == 4 * nEmbd) {
            c.putNull("n_inner");
        } else {
            c.put("n_inner", nInner);
        }
        c.put("activation_function", "gelu_new");
        c.put("layer_norm_epsilon", 1e-5);
        c.put("initializer_range", 0.02);
        c.put("resid_pdrop", 0.0);
        c.put("embd_pdrop", 0.0);
        c.put("attn_pdrop", 0.0);
        c.put("scale_attn_weights", true);
        c.put("bos_token_id", eosId);
        c.put("eos_token_id", eosId);
        c.put("tie_word_embeddings", tied);
        c.put("use_cache", true);
        c.put("torch_dtype", torchDtype(tensors.get(0).array().getDataType()));
        return c;
    }

    private static String torchDtype(DataType t) {
        return switch (t) {
            case FLOAT16 -> "float16";
            case BFLOAT16 -> "bfloat16";
            case FLOAT64 -> "float64";
            default -> "float32";
        };
    }

    /**
     * Writes {@link #tensors()} as a safetensors file with {@code __metadata__ {"format": "pt"}}
     * (what {@code save_pretrained} writes), one tensor at a time.
     *
     * @param out the stream (buffer it; it is not closed)
     * @throws IOException when writing fails
     */
    public void writeSafetensors(OutputStream out) throws IOException {
        Safetensors.write(out, tensors, Map.of("format", "pt"));
    }
}
