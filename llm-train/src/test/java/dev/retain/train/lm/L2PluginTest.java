package dev.retain.train.lm;

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
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The l2 strategy, the example of adding a strategy (one class, one registration line): its
 * penalty is lambda/2 times the squared distance to the weights at the previous domain's end,
 * checked against a sum done here over the same arrays.
 */
class L2PluginTest {

    @TempDir Path tmp;

    @Test
    void penalisesTheSquaredDistanceToThePreviousDomainsWeights() throws IOException {
        assertEquals(List.of("l2"), Strategies.components("l2"));
        assertEquals(List.of("replay", "l2"), Strategies.components("l2+replay"),
                "registration order, whatever the name's order");
        Map<String, Object> m = new LinkedHashMap<>(Map.of("strategy", "l2", "batch-size", 2,
                "seq-len", 32, "l2-lambda", 50.0, "device", "cpu", "warmup-steps", 0));
        m.put("learning-rate", 1e-3);
        m.put("drift", "off");
        TrainConfig c = TrainConfig.fromValues(m, "test");
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing",
                "legal");
        try (ContinualTrainer t = ContinualTrainer.start(RunSetup.create(null, c, Fixtures.tiny(),
                Fixtures.tokenizer(), doms), tmp.resolve("run"), false)) {
            L2Plugin l2 = (L2Plugin) t.plugins().get(0);
            t.step();
            t.endDomain();
            EwcPenalty pen = l2.penalty();
            List<NamedParameter> params = t.context().parameters();
            assertEquals(params.size(), pen.fisher().size(), "every trained parameter");
            for (NamedParameter p : params) {
                for (float f : pen.fisher().get(p.name()).toFloatArray()) {
                    assertEquals(1f, f, "F = 1 for " + p.name());
                }
            }
            assertEquals(0.0, t.step().penalty(), 0.0, "at the anchor");
            double byHand = 0;
            for (NamedParameter p : params) {
                float[] theta = p.array().toFloatArray();
                float[] anchor = pen.anchor().get(p.name()).toFloatArray();
                for (int i = 0; i < theta.length; i++) {
                    double d = (double) theta[i] - anchor[i];
                    byHand += d * d;
                }
            }
            byHand *= 50.0 / 2;
            StepResult r = t.step();
            assertTrue(byHand > 0);
            assertEquals(byHand, r.penalty(), 1e-3 * byHand);
        }
    }
}
