package dev.retain.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;
import dev.retain.core.model.CausalLm;


import ai.djl.Device;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/** The disk a run may use, worked out before it starts; the refusal when it cannot fit. */
class DiskPlanTest {

    @TempDir Path tmp;

    /**
     * The tiny fixture (datasets/models/README.md: d 32, 2 layers, context 64, vocabulary 50,257,
     * tied output layer), counted by hand: wte 50,257 x 32 = 1,608,224; wpe 64 x 32 = 2,048; per
     * block ln_1 64, c_attn 32 x 96 + 96 = 3,168, attn c_proj 32 x 32 + 32 = 1,056, ln_2 64, c_fc
     * 32 x 128 + 128 = 4,224, mlp c_proj 128 x 32 + 32 = 4,128: 12,704, two blocks 25,408; ln_f
     * 64. In all 1,635,744 floats; without wte and wpe (the demo's ewc-exclude) 25,472.
     */
    private static final long P = 1_635_744L * 4;
    private static final long E_BLOCKS = 25_472L * 4;

    @Test
    void estimateByHand() throws IOException {
        long m = Files.size(Fixtures.tiny());
        try (CausalLm lm = CausalLm.load(Fixtures.tiny(), Device.cpu(), 0)) {
            TrainConfig c = TrainerTest.config("ewc+replay", Map.of("ewc-exclude", "wte|wpe"));
            DiskPlan d = DiskPlan.estimate(c, m, lm.parameters(), 4);
            assertEquals(4 * m, d.stageModels(), "four stage models");
            assertEquals(4 * 2 * E_BLOCKS, d.ewcFiles(), "F and theta* of the blocks, per stage");
            // keep 1 + the one being written; each: model, AdamW moments, 2,048 replay tokens
            // (F and theta* are links to the stage's EWC file).
            assertEquals(2 * (m + 2 * P + 2048 * 8), d.checkpoints());
            assertEquals(2 * P, d.drift(), "drift fisher: anchor and Fisher");

            TrainConfig last = TrainerTest.config("ewc", Map.of("export-stages", "last",
                    "keep-checkpoints", 2, "drift", "plain"));
            DiskPlan l = DiskPlan.estimate(last, m, lm.parameters(), 3);
            assertEquals(m, l.stageModels());
            assertEquals(2 * P, l.ewcFiles(), "EWC covers all: F and theta* of every parameter");
            assertEquals(3 * (m + 2 * P + 2 * P), l.checkpoints(), "own F and theta* in each");
            assertEquals(P, l.drift());

            DiskPlan one = DiskPlan.estimate(TrainerTest.config("naive", Map.of()), m,
                    lm.parameters(), 1);
            assertEquals(0, one.drift(), "one domain: no stage follows, no drift state");
        }
    }

    @Test
    void refusesARunThatCannotFitInOneLine() throws IOException {
        DiskPlan d = new DiskPlan(2_000_000_000L, 0, 3_500_000_000L, 0);
        UserError e = assertThrows(UserError.class, () -> d.check(tmp, 5_000_000_000L));
        assertEquals(tmp + ": this run needs up to 5.5 GB of disk (stage models 2.0 GB,"
                + " checkpoints 3.5 GB) but its file system has 5.0 GB free; free space, choose"
                + " another --out, or write less: --export-stages last or none,"
                + " --keep-checkpoints 1, --drift plain or off", e.getMessage());
        d.check(tmp, 5_500_000_000L); // fits exactly
    }

    @Test
    void aFinishedRunUsesNoMoreThanTheEstimate() throws IOException {
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing",
                "legal");
        TrainConfig c = TrainerTest.config("ewc+replay", Map.of("keep-checkpoints", 2,
                "test-windows", 2, "eval-every", 0));
        Path run = tmp.resolve("run");
        DiskPlan d;
        try (CausalLm lm = CausalLm.load(Fixtures.tiny(), Device.cpu(), 0)) {
            d = DiskPlan.estimate(c, Files.size(Fixtures.tiny()), lm.parameters(), 2);
        }
        try (ContinualTrainer t = ContinualTrainer.start(RunSetup.create(null, c, Fixtures.tiny(),
                Fixtures.tokenizer(), doms), run, false)) {
            assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
        }
        long used = 0;
        Set<Object> seen = new HashSet<>(); // hard links count once
        try (Stream<Path> files = Files.walk(run)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                if (seen.add(Files.readAttributes(f, "unix:ino").get("ino"))) {
                    used += Files.size(f);
                }
            }
        }
        assertTrue(used <= d.total(), used + " bytes written, estimate " + d.total());
        assertTrue(used >= d.total() / 3, "not a wild over-estimate: " + used + " of "
                + d.total());
    }
}
