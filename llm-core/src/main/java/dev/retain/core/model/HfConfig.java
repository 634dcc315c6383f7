package dev.retain.core.model;

import dev.retain.core.UserError;
import dev.retain.core.util.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A Hugging Face GPT-2 {@code config.json} as {@code retain import} reads it: the numbers that
 * shape the model, with {@code GPT2Config}'s defaults for keys the file leaves out (as {@code
 * from_pretrained} does), and a refusal, in one line naming the key, of every setting that
 * changes the forward in a way retain's TorchScript GPT-2 does not compute.
 *
 * @param file the file
 * @param json its content
 * @param vocabSize {@code vocab_size}
 * @param nPositions {@code n_positions}
 * @param nEmbd {@code n_embd}
 * @param nLayer {@code n_layer}
 * @param nHead {@code n_head}
 * @param nInner the MLP's width: {@code n_inner}, or 4 {@code n_embd} when null
 * @param epsilon {@code layer_norm_epsilon}
 * @param activation {@code activation_function}
 * @param tied {@code tie_word_embeddings}: the output layer is the token embedding
 */
public record HfConfig(Path file, ObjectNode json, int vocabSize, int nPositions, int nEmbd,
        int nLayer, int nHead, int nInner, double epsilon, String activation, boolean tied) {

    /** The activation functions retain computes (Hugging Face's ACT2FN names). */
    public static final List<String> ACTIVATIONS = List.of("gelu_new", "gelu", "relu");

    /** Settings that must be false: each changes the attention or adds to the model. */
    private static final List<String> MUST_BE_FALSE = List.of("scale_attn_by_inverse_layer_idx",
            "reorder_and_upcast_attn", "add_cross_attention");

    /**
     * Reads and checks a {@code config.json}.
     *
     * @param file the file
     * @return the configuration
     * @throws UserError naming the file and the key that is missing, malformed or unsupported
     */
    public static HfConfig read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new UserError(file + ": not found; a Hugging Face model folder holds"
                    + " config.json beside its weights (download it with the weights)");
        }
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new UserError(file + ": not valid JSON (" + dev.retain.core.Engines.firstLine(e)
                    + "); download it again", e);
        }
        if (!(node instanceof ObjectNode json)) {
            throw new UserError(file + ": expected a JSON object (GPT2Config's keys)");
        }
        JsonNode type = json.get("model_type");
        if (type != null && !"gpt2".equals(type.asText())) {
            throw new UserError(file + ": model_type is " + type + "; retain imports GPT-2"
                    + " models only (model_type \"gpt2\")");
        }
        for (String key : MUST_BE_FALSE) {
            JsonNode v = json.get(key);
            if (v != null && !v.isNull() && !(v.isBoolean() && !v.asBoolean())) {
                throw new UserError(file + ": " + key + " is " + v + "; retain's GPT-2 does not"
                        + " compute that variant of the model (supported: false)");
            }
        }
        JsonNode scale = json.get("scale_attn_weights");
        if (scale != null && !(scale.isBoolean() && scale.asBoolean())) {
            throw new UserError(file + ": scale_attn_weights is " + scale + "; retain's GPT-2"
                    + " scales attention by 1/sqrt(head_dim) (supported: true)");
        }
        String act = text(json, file, "activation_function", "gelu_new");
        if (!ACTIVATIONS.contains(act)) {
            throw new UserError(file + ": activation_function \"" + act + "\" is not supported;"
                    + " retain computes " + String.join(", ", ACTIVATIONS));
        }
        int d = size(json, file, "n_embd", 768);
        int heads = size(json, file, "n_head", 12);
        if (d % heads != 0) {
            throw new UserError(file + ": n_head " + heads + " does not divide n_embd " + d
                    + "; fix config.json");
        }
        JsonNode inner = json.get("n_inner");
        int nInner = inner == null || inner.isNull() ? 4 * d : size(json, file, "n_inner", 0);
        JsonNode eps = json.get("layer_norm_epsilon");
        double epsilon = eps == null || eps.isNull() ? 1e-5 : eps.isNumber() ? eps.asDouble() : -1;
        if (!(epsilon > 0) || Double.isInfinite(epsilon)) {
            throw new UserError(file + ": layer_norm_epsilon must be a positive number, found "
                    + eps);
        }
        JsonNode tie = json.get("tie_word_embeddings");
        if (tie != null && !tie.isBoolean()) {
            throw new UserError(file + ": tie_word_embeddings must be true or false, found " + tie);
        }
        return new HfConfig(file, json, size(json, file, "vocab_size", 50257),
                size(json, file, "n_positions", 1024), d, size(json, file, "n_layer", 12), heads,
                nInner, epsilon, act, tie == null || tie.asBoolean());
    }

    private static int size(ObjectNode json, Path file, String key, int dflt) {
        JsonNode v = json.get(key);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() <= 0) {
            throw new UserError(file + ": " + key + " must be a positive whole number, found " + v);
        }
        return v.asInt();
    }

    private static String text(ObjectNode json, Path file, String key, String dflt) {
        JsonNode v = json.get(key);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isTextual()) {
            throw new UserError(file + ": " + key + " must be a string, found " + v);
        }
        return v.asText();
    }

    /** @return {@code n_embd / n_head} */
    public int headDim() {
        return nEmbd / nHead;
    }
}
