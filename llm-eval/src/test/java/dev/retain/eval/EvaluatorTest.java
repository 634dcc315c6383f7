package dev.retain.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;
import dev.retain.core.model.CausalLm;
import dev.retain.core.text.TokenFile;
import dev.retain.core.util.RepoPaths;

import ai.djl.Device;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The evaluator against PyTorch: {@code tools/make_eval_reference.sh} ran {@code
 * tools/reference_eval.py} on the committed fixtures and reference token ids and wrote {@code
 * datasets/models/reference-eval.json}; here the same model and ids go through our evaluator.
 */
class EvaluatorTest {

    @TempDir Path tmp;

    static TokenFile idsFile(String name, Path tmp) throws IOException {
        return idsFile(name, 0, tmp);
    }

    /**
     * @param limit keep only the first this many ids (0 for all), as {@code reference_eval.py
     *     --limit} does
     */
    static TokenFile idsFile(String name, int limit, Path tmp) throws IOException {
        byte[] b = Files.readAllBytes(RepoPaths.resolve("datasets/tokenizers/gpt2/reference-ids",
                name));
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int n = limit > 0 ? Math.min(limit, b.length / 2) : b.length / 2;
        int[] ids = new int[n];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = Short.toUnsignedInt(bb.getShort());
        }
        Path f = tmp.resolve(name + "-" + n + ".tok");
        TokenFile.write(f, ids, 50257, "ref", "ref");
        return TokenFile.openOrNull(f);
    }

    @Test
    void matchesPyTorchReference() throws IOException {
        JsonNode cases = new ObjectMapper().readTree(
                RepoPaths.resolve("datasets/models/reference-eval.json").toFile());
        assertTrue(cases.size() >= 4, "reference cases");
        // Untrained fixtures predict almost no token right, so token accuracy would hardly be
        // tested; a trained model's cases (accuracy over 0.1) must be there in both forms.
        Set<String> trainedForms = new HashSet<>();
        for (JsonNode c : cases) {
            if (c.get("result").get("token_accuracy").asDouble() > 0.1) {
                trainedForms.add(c.get("result").get("output_form").asText());
            }
        }
        assertEquals(Set.of("logits", "hf-tuple"), trainedForms, "trained-model cases");
        double worst = 0;
        for (JsonNode c : cases) {
            String label = c.toString();
            JsonNode ref = c.get("result");
            TokenFile ids = idsFile(c.get("ids").asText(), c.path("limit").asInt(0), tmp);
            assertEquals(ref.get("tokens").asLong(), ids.size(), label);
            try (CausalLm lm = CausalLm.load(RepoPaths.resolve("datasets/models",
                    c.get("model").asText(), "model.pt"), Device.cpu(), 0)) {
                EvalResult r = Evaluator.evaluate(lm, ids, "d", "test", new Evaluator.Options(
                        c.get("window").asInt(), c.get("stride").asInt(), 0, 0, false));
                assertEquals(ref.get("predicted").asLong(), r.predicted(), label);
                assertEquals(ref.get("windows").asLong(), r.windows(), label);
                double relErr = Math.abs(r.perplexity() / ref.get("perplexity").asDouble() - 1);
                assertTrue(relErr < 1e-4, "perplexity relative error " + relErr + " " + label);
                worst = Math.max(worst, relErr);
                assertEquals(ref.get("token_accuracy").asDouble(), r.tokenAccuracy(), 1e-6, label);
            }
        }
        System.out.printf(Locale.ROOT, "%d reference cases, largest perplexity relative error"
                + " %.3g%n", cases.size(), worst);
    }

    @Test
    void nonOverlappingWindowsByHand() {
        // 100 tokens, W=64: [0,64) and [64,100); 63 + 35 predicted.
        List<Evaluator.Window> w = Evaluator.windows(100, 64, 0);
        assertEquals(List.of(new Evaluator.Window(0, 64, 1), new Evaluator.Window(64, 36, 1)), w);
        // 65 tokens: the 1-token tail predicts nothing and is dropped.
        assertEquals(1, Evaluator.windows(65, 64, 0).size());
        // 66 tokens: a 2-token tail is kept.
        assertEquals(2, Evaluator.windows(66, 64, 0).size());
    }

    @Test
    void slidingWindowsScoreEveryTokenOnce() {
        // N=10, W=4, S=2: [0,4) scores 1..3; [2,6) scores 4,5; [4,8) scores 6,7; [6,10) 8,9.
        List<Evaluator.Window> w = Evaluator.windows(10, 4, 2);
        assertEquals(List.of(new Evaluator.Window(0, 4, 1), new Evaluator.Window(2, 4, 2),
                new Evaluator.Window(4, 4, 2), new Evaluator.Window(6, 4, 2)), w);
        int scored = w.stream().mapToInt(x -> x.length() - x.firstScored()).sum();
        assertEquals(9, scored);
    }

    @Test
    void windowLargerThanContextIsRefused() throws IOException {
        TokenFile ids = idsFile("sample.u16", tmp);
        try (CausalLm lm = CausalLm.load(RepoPaths.resolve("datasets/models/tiny/model.pt"),
                Device.cpu(), 0)) {
            UserError e = assertThrows(UserError.class, () -> Evaluator.evaluate(lm, ids, "d",
                    "test", new Evaluator.Options(65, 0, 0, 0, false)));
            assertTrue(e.getMessage().contains("--window 65"), e.getMessage());
            assertTrue(e.getMessage().contains(lm.source().toString()), e.getMessage());
            assertTrue(e.getMessage().contains("(64 tokens)"), e.getMessage());
        }
    }
}
