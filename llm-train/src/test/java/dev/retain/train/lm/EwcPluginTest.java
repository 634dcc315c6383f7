package dev.retain.train.lm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.model.NamedParameter;
import dev.retain.train.ContinualTrainer;
import dev.retain.train.Fixtures;
import dev.retain.train.RunSetup;
import dev.retain.train.plugin.StepResult;
import dev.retain.train.TrainConfig;
import dev.retain.train.ewc.EwcPenalty;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * EWC as a plugin of the trainer, on the tiny model: what it consolidates at a domain's end, what
 * it leaves out, and the penalty it adds to later steps, checked against a sum done here in double
 * precision over the same arrays.
 */
class EwcPluginTest {

    @TempDir Path tmp;

    @Test
    void consolidatesAtTheDomainEndAndPenalisesTheDistanceFromThere() throws IOException {
        Map<String, Object> m = new LinkedHashMap<>(Map.of("strategy", "ewc", "batch-size", 2,
                "seq-len", 32, "fisher-samples", 4, "ewc-lambda", 5000.0, "ewc-exclude",
                "wte|wpe", "device", "cpu", "warmup-steps", 0));
        m.put("learning-rate", 1e-3);
        m.put("drift", "off");
        TrainConfig c = TrainConfig.fromValues(m, "test");
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing",
                "legal");
        Path run = tmp.resolve("run");
        try (ContinualTrainer t = ContinualTrainer.start(RunSetup.create(null, c, Fixtures.tiny(),
                Fixtures.tokenizer(), doms), run, false)) {
            EwcPlugin ewc = (EwcPlugin) t.plugins().get(0);
            assertEquals(0.0, t.step().penalty(), "nothing consolidated in the first domain");
            t.endDomain();
            // The Fisher's backward passes leave no gradient behind, on the embeddings EWC
            // leaves out either: the next step would add it to its own.
            for (NamedParameter p : t.context().parameters()) {
                try (var g = p.array().getGradient()) {
                    assertEquals(0.0, g.abs().sum().getFloat(), 0.0, p.name());
                }
            }

            EwcPenalty pen = ewc.penalty();
            assertTrue(pen.active());
            List<NamedParameter> covered = new ArrayList<>();
            for (NamedParameter p : t.context().parameters()) {
                if (!p.name().contains("wte") && !p.name().contains("wpe")) {
                    covered.add(p);
                }
            }
            assertEquals(covered.stream().map(NamedParameter::name).toList(),
                    new ArrayList<>(pen.fisher().keySet()), "every parameter but the embeddings");
            assertEquals(pen.fisher().keySet(), pen.anchor().keySet());
            for (NamedParameter p : covered) {
                assertArrayEquals(p.array().toFloatArray(),
                        pen.anchor().get(p.name()).toFloatArray(), "theta* of " + p.name());
                for (float f : pen.fisher().get(p.name()).toFloatArray()) {
                    assertTrue(f >= 0 && Float.isFinite(f), "F of " + p.name() + ": " + f);
                }
            }
            assertTrue(Files.size(run.resolve("ewc-stage-0.ndlist")) > 0, "reusable as a prior");

            assertEquals(0.0, t.step().penalty(), 0.0, "theta = theta* at the first step");
            double byHand = 0;
            for (NamedParameter p : covered) {
                float[] theta = p.array().toFloatArray();
                float[] anchor = pen.anchor().get(p.name()).toFloatArray();
                float[] f = pen.fisher().get(p.name()).toFloatArray();
                for (int i = 0; i < theta.length; i++) {
                    double d = (double) theta[i] - anchor[i];
                    byHand += f[i] * d * d;
                }
            }
            byHand *= 5000.0 / 2;
            StepResult r = t.step();
            assertTrue(byHand > 0);
            assertEquals(byHand, r.penalty(), 1e-3 * byHand, "lambda/2 sum F (theta - theta*)^2");
            assertEquals(r.dataLoss() + r.penalty(), r.total(), 0.0);
        }
    }
}
