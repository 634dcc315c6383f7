package dev.retain.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;
import dev.retain.core.model.CausalLm;
import dev.retain.core.util.RepoPaths;

import ai.djl.Device;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

/** The arithmetic of the benchmark: statistics, target status, the FLOPs of a step. */
class BenchPartsTest {

    private static java.nio.file.Path model(String name) {
        return RepoPaths.resolve("datasets/models", name, "model.pt");
    }


    @Test
    void medianQuantileAndRatio() {
        assertEquals(2.0, Stats.median(new double[] {3, 1, 2}));
        assertEquals(2.5, Stats.median(new double[] {4, 1, 3, 2}));
        assertTrue(Double.isNaN(Stats.median(new double[0])));
        assertEquals(1.0, Stats.quantile(new double[] {1, 2, 3, 4, 5}, 0));
        assertEquals(5.0, Stats.quantile(new double[] {1, 2, 3, 4, 5}, 1));
        assertEquals(1.4, Stats.quantile(new double[] {1, 2, 3, 4, 5}, 0.1), 1e-12);
        assertEquals(1.0, Stats.min(new double[] {3, 1, 2}));
        assertEquals(2.0, Stats.ratio(4, 2));
        assertTrue(Double.isNaN(Stats.ratio(4, 0)));
        assertTrue(Double.isNaN(Stats.ratio(Double.NaN, 2)));
        assertEquals(5, Stats.concat(new double[] {1, 2}, new double[] {3, 4, 5}).length);
    }

    @Test
    void targetStatusFollowsTheComparison() {
        assertEquals(Target.MET, new Target("a", "a", 1.05, true, 1.05, true, "").status());
        assertEquals(Target.MISSED, new Target("a", "a", 1.06, true, 1.05, true, "").status());
        assertEquals(Target.MET, new Target("b", "b", 3.0, false, 3.0, true, "").status());
        assertEquals(Target.MISSED, new Target("b", "b", 2.9, false, 3.0, true, "").status());
        assertEquals(Target.SKIPPED, new Target("c", "c", Double.NaN, true, 1, true, "")
                .status());
        assertEquals("<= 1.05", new Target("a", "a", 1, true, 1.05, true, "").condition());
        assertTrue(new Target("c", "c", Double.NaN, true, 1, true, "").toJson().get("value")
                .isNull());
    }

    @Test
    void flopsOfTheTinyModel() {
        try (CausalLm lm = CausalLm.load(model("tiny"), Device.cpu(), 0)) {
            ModelShape s = ModelShape.of(lm);
            assertEquals(32, s.nEmbd());
            assertEquals(2, s.nLayer());
            assertEquals(64, s.context());
            assertEquals(50257, s.vocab());
            // tied embedding counted once: wte 50257x32, wpe 64x32, 2 blocks of 12 d^2 + 13 d,
            // final LayerNorm 2 d
            long d = 32;
            long expected = 50257 * d + 64 * d + 2 * (12 * d * d + 13 * d) + 2 * d;
            assertEquals(expected, s.parameters());
            assertEquals(6.0 * expected + 12.0 * 2 * 16 * 32, s.trainFlopsPerToken(16));
            assertEquals(s.trainFlopsPerToken(16) * 4 * 16, s.trainFlopsPerStep(4, 16));
            assertEquals(0, s.lookupOnly());
        }
        // Untied (micro-untied: vocabulary 257, d 16, 2 blocks, context 32): the input embedding
        // is a lookup, the separate lm_head.weight is the output product.
        try (CausalLm lm = CausalLm.load(model("micro-untied"),
                Device.cpu(), 0)) {
            ModelShape s = ModelShape.of(lm);
            long d = s.nEmbd();
            long v = 257;
            long all = v * d + s.context() * d + s.nLayer() * (12 * d * d + 13 * d) + 2 * d
                    + v * d;
            assertEquals(all, s.parameters());
            assertEquals(v * d, s.lookupOnly());
            assertEquals(6.0 * (all - v * d) + 12.0 * s.nLayer() * 8 * d,
                    s.trainFlopsPerToken(8));
        }
    }

    @Test
    void specRejectsOneDomainAndCapsRounds() {
        Path m = Path.of("m.pt");
        assertThrows(UserError.class, () -> new BenchSpec(m, m, List.of(Path.of("a")), 8, 0, 5,
                2, 1, 4, 4, 1, 64, 1, 0, List.of(), 0, "cpu", 0, 1, 1, BenchSpec.STRATEGIES, "fp32", false));
        BenchSpec s = new BenchSpec(m, m, List.of(Path.of("a"), Path.of("b")), 8, 0, 2, 5, 1, 4,
                4, 1, 64, 1, 2000, List.of(), 0, "cpu", 0, 1, 1, BenchSpec.STRATEGIES, "fp32", false);
        assertEquals(2, s.rounds());
        assertEquals(200, s.rssEarlyStep());
        BenchSpec few = new BenchSpec(m, m, List.of(Path.of("a"), Path.of("b")), 8, 0, 2, 1, 1,
                4, 4, 1, 64, 1, 30, List.of(), 0, "cpu", 0, 1, 1, BenchSpec.STRATEGIES, "fp32", false);
        assertEquals(3, few.rssEarlyStep());
        BenchSpec perStep = new BenchSpec(m, m, List.of(Path.of("a"), Path.of("b")), 8, 0, 7, 0,
                1, 4, 4, 1, 64, 1, 0, List.of(), 0, "cpu", 0, 1, 1, BenchSpec.STRATEGIES, "fp32", false);
        assertEquals(7, perStep.rounds(), "0 rounds: one step per variant per round");
        BenchSpec two = new BenchSpec(m, m, List.of(Path.of("a"), Path.of("b")), 2, 0, 7, 0,
                1, 4, 4, 1, 64, 1, 0, List.of(), 0, "cpu", 0, 1, 4, List.of("ewc+replay"), "fp32", false);
        assertEquals(List.of("naive", "ewc+replay"), two.strategies(), "naive always timed");
        assertEquals(8, two.windowsPerStep());
        UserError bad = assertThrows(UserError.class, () -> new BenchSpec(m, m,
                List.of(Path.of("a"), Path.of("b")), 2, 0, 7, 0, 1, 4, 4, 1, 64, 1, 0, List.of(), 0,
                "cpu", 0, 1, 1, List.of("lwf"), "fp32", false));
        assertEquals("--strategies: 'lwf' is not one of naive, ewc, replay, ewc+replay",
                bad.getMessage());
    }
}
