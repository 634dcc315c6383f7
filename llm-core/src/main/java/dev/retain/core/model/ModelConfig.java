package dev.retain.core.model;

import dev.retain.core.UserError;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The shape of a GPT-2-class model, from an HF-style {@code config.json} beside the {@code .pt}.
 *
 * <p>Fields the file does not give are {@code 0} (unknown). The context length may also come from
 * the {@code transformer.wpe.weight} shape or from a flag; see {@link CausalLm#load}.
 *
 * @param nPositions context length (tokens), 0 when unknown
 * @param nEmbd model width, 0 when unknown
 * @param nLayer transformer blocks, 0 when unknown
 * @param nHead attention heads, 0 when unknown
 * @param vocabSize vocabulary size, 0 when unknown
 * @param source where the numbers came from (a path, or "none")
 */
public record ModelConfig(
        int nPositions, int nEmbd, int nLayer, int nHead, int vocabSize, String source) {

    /** A configuration that knows nothing. */
    public static final ModelConfig UNKNOWN = new ModelConfig(0, 0, 0, 0, 0, "none");

    /**
     * Reads {@code config.json} beside a model file, when there is one.
     *
     * @param modelFile the {@code .pt} file
     * @return the configuration, or {@link #UNKNOWN} when there is no {@code config.json}
     */
    public static ModelConfig besides(Path modelFile) {
        Path parent = modelFile.toAbsolutePath().getParent();
        Path cfg = parent == null ? null : parent.resolve("config.json");
        if (cfg == null || !Files.isRegularFile(cfg)) {
            return UNKNOWN;
        }
        JsonNode node;
        try {
            node = new ObjectMapper().readTree(cfg.toFile());
        } catch (IOException e) {
            throw new UserError(cfg + ": not valid JSON (" + dev.retain.core.Engines.firstLine(e)
                    + "): fix or remove the file", e);
        }
        if (node == null || !node.isObject()) {
            throw new UserError(cfg + ": expected a JSON object with n_positions, n_embd, ...");
        }
        return new ModelConfig(
                positive(node, cfg, "n_positions", "n_ctx"),
                positive(node, cfg, "n_embd", "hidden_size"),
                positive(node, cfg, "n_layer", "num_hidden_layers"),
                positive(node, cfg, "n_head", "num_attention_heads"),
                positive(node, cfg, "vocab_size", null),
                cfg.toString());
    }

    private static int positive(JsonNode node, Path cfg, String key, String alias) {
        JsonNode v = node.get(key);
        if ((v == null || v.isNull()) && alias != null) {
            v = node.get(alias);
            key = alias;
        }
        if (v == null || v.isNull()) {
            return 0;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() <= 0) {
            throw new UserError(cfg + ": \"" + key + "\" must be a positive integer, found " + v);
        }
        return v.asInt();
    }

    /**
     * Returns a copy with the context length replaced.
     *
     * @param positions the new context length
     * @param from where it came from
     * @return the new configuration
     */
    public ModelConfig withPositions(int positions, String from) {
        return new ModelConfig(positions, nEmbd, nLayer, nHead, vocabSize, from);
    }
}
