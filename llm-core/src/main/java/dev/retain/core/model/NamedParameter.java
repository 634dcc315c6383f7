package dev.retain.core.model;

import ai.djl.ndarray.NDArray;

import java.util.List;
import java.util.regex.Pattern;

/**
 * A trainable tensor and its name: the unit that optimizers, EWC, Fisher estimation and drift
 * reports work on, for language models and classifiers alike.
 *
 * @param name the dotted module path, e.g. {@code transformer.h.0.attn.c_attn.weight}
 * @param array the live parameter tensor
 */
public record NamedParameter(String name, NDArray array) {

    /**
     * Whether weight decay applies by the usual GPT-2 convention: not to biases, LayerNorm
     * weights, or any 1-D tensor.
     *
     * @return true for matrices (and embeddings)
     */
    public boolean decays() {
        return array.getShape().dimension() >= 2 && !name.endsWith(".bias");
    }

    /**
     * The layer a tensor belongs to, for per-layer summaries: {@code h.3} for {@code
     * transformer.h.3.mlp.c_fc.weight}, {@code wte} for {@code transformer.wte.weight}, else the
     * name without its last part.
     *
     * @return the group name
     */
    public String group() {
        String n = name.startsWith("transformer.") ? name.substring("transformer.".length()) : name;
        String[] parts = n.split("\\.");
        if (parts.length >= 2 && parts[0].equals("h")) {
            return "h." + parts[1];
        }
        return parts.length > 1 ? String.join(".", java.util.Arrays.copyOf(parts, parts.length - 1))
                : n;
    }

    /**
     * The parameters whose names a pattern does not find ({@code --ewc-exclude}, {@code
     * --freeze}).
     *
     * @param params parameters, in order
     * @param pattern searched in each name; null or empty keeps all
     * @return the others, in order (the same list when none is left out)
     */
    public static List<NamedParameter> without(List<NamedParameter> params, String pattern) {
        if (pattern == null || pattern.isEmpty()) {
            return params;
        }
        Pattern p = Pattern.compile(pattern);
        return params.stream().filter(x -> !p.matcher(x.name()).find()).toList();
    }
}
