package dev.retain.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;
import dev.retain.core.text.GptTokenizer;
import dev.retain.core.util.Json;
import dev.retain.core.util.RepoPaths;

import ai.djl.Device;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

/** The tokenizer beside the model, the vocabulary check and the window check. */
class ModelInputsTest {

    private static final Path TINY = RepoPaths.resolve("datasets/models/tiny/model.pt");
    private static final Path GPT2 = RepoPaths.resolve("datasets/tokenizers/gpt2/tokenizer.json");

    @TempDir Path tmp;

    private static String refused(Executable e) {
        return assertThrows(UserError.class, e).getMessage();
    }

    @Test
    void theTokenizerGivenElseTheOneBesideTheModel() throws Exception {
        Path model = tmp.resolve("m.pt");
        Files.createFile(model);
        assertEquals(GPT2, ModelInputs.tokenizer(GPT2, model));
        String m = refused(() -> ModelInputs.tokenizer(null, model));
        assertTrue(m.startsWith("--tokenizer is required: there is no tokenizer.json beside "
                + model), m);
        Files.copy(GPT2, tmp.resolve("tokenizer.json"));
        assertEquals(tmp.resolve("tokenizer.json").toAbsolutePath(),
                ModelInputs.tokenizer(null, model));
    }

    @Test
    void aTokenizerWithMoreIdsThanTheVocabularyIsRefusedByName() throws Exception {
        ObjectNode t = (ObjectNode) Json.MAPPER.readTree(GPT2.toFile());
        ObjectNode extra = ((ArrayNode) t.get("added_tokens")).addObject();
        extra.put("id", 50300);
        extra.put("special", true);
        extra.put("content", "<|extra|>");
        extra.put("single_word", false);
        extra.put("lstrip", false);
        extra.put("rstrip", false);
        extra.put("normalized", false);
        Path big = tmp.resolve("big.json");
        Json.write(big, t);
        try (CausalLm lm = CausalLm.load(TINY, Device.cpu(), 0)) {
            ModelInputs.loadTokenizer(GPT2, lm).close();
            String m = refused(() -> ModelInputs.loadTokenizer(big, lm));
            assertTrue(m.startsWith(big + ": the tokenizer has 50301 ids but the model's"
                    + " vocabulary has 50257"), m);
            try (GptTokenizer tok = GptTokenizer.load(big)) {
                refused(() -> ModelInputs.checkVocabulary(tok, lm));
            }
        }
    }

    @Test
    void aTokenizerWithFarFewerIdsThanTheModelIsWarnedAbout() throws Exception {
        // A tokenizer of 1,000 ids (GPT-2's first 999 and <|endoftext|>) for a 50,257-id model.
        ObjectNode t = (ObjectNode) Json.MAPPER.readTree(GPT2.toFile());
        ObjectNode model = (ObjectNode) t.get("model");
        ObjectNode vocab = Json.object();
        model.get("vocab").fields().forEachRemaining(e -> {
            if (e.getValue().asInt() < 999) {
                vocab.set(e.getKey(), e.getValue());
            }
        });
        vocab.put(GptTokenizer.EOS_TEXT, 999);
        model.set("vocab", vocab);
        ArrayNode all = (ArrayNode) model.get("merges");
        ArrayNode merges = Json.MAPPER.createArrayNode();
        for (var m : all) {
            String[] ab = m.asText().split(" ");
            if (ab.length == 2 && vocab.has(ab[0]) && vocab.has(ab[1]) && vocab.has(ab[0] + ab[1])) {
                merges.add(m);
            }
        }
        model.set("merges", merges);
        t.get("added_tokens").forEach(a -> ((ObjectNode) a).put("id", 999));
        Path small = tmp.resolve("small.json");
        Json.write(small, t);
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.err;
        System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
        try (CausalLm lm = CausalLm.load(TINY, Device.cpu(), 0);
                GptTokenizer tok = ModelInputs.loadTokenizer(small, lm)) {
            assertEquals(1000, tok.vocabSize());
            ModelInputs.loadTokenizer(GPT2, lm).close(); // the model's own: no warning
        } finally {
            System.setErr(old);
        }
        assertEquals("retain: warning: " + small + " has 1000 ids but the model's vocabulary"
                + " has 50257; is it the tokenizer the model was trained with?\n",
                err.toString(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void theWindowMustFitTheContext() {
        try (CausalLm lm = CausalLm.load(TINY, Device.cpu(), 0)) {
            int c = lm.context();
            assertEquals(c, ModelInputs.window("--seq-len", 0, lm));
            assertEquals(16, ModelInputs.window("--seq-len", 16, lm));
            String m = refused(() -> ModelInputs.window("--window", c + 1, lm));
            assertEquals("--window " + (c + 1) + " is larger than the context of the model "
                    + TINY + " (" + c + " tokens); use --window " + c + " or less", m);
            m = refused(() -> ModelInputs.window("--seq-len", 1, lm));
            assertEquals("--seq-len 1: a window needs at least 2 tokens", m);
        }
    }
}
