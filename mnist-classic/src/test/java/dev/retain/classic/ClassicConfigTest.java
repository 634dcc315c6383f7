package dev.retain.classic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;
import dev.retain.classic.data.Scenario;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The classic settings: the same defaults as before the key table, aliases, results keys. */
class ClassicConfigTest {

    static ClassicConfig parse(Map<String, String> texts) {
        return ClassicConfig.of(ClassicConfig.TABLE.parseTexts(texts), Scenario.TASK);
    }

    @Test
    void defaultsPerBenchmark() {
        ClassicConfig s = ClassicConfig.defaults("split-mnist");
        assertEquals(Scenario.CLASS, s.scenario());
        assertNull(s.mnist());
        assertEquals(List.of(10, 5, 1L, 10, 128, 1e-3), List.of(s.tasks(), s.seeds(), s.seed(),
                s.epochs(), s.batchSize(), s.learningRate()));
        assertArrayEquals(new int[] {400, 400}, s.hidden());
        assertEquals(List.of(1e6, 1.0, 200, "sampled", 1000, "reservoir", 0, 10),
                List.of(s.ewcLambda(), s.ewcGamma(), s.fisherSamples(), s.fisherMode(),
                        s.replaySamples(), s.replayMode(), s.replayBatch(), s.streamBatch()));
        assertEquals(List.of(0.3, 0.3, 1.0, 2, 2, 0.03, 1000, 1), List.of(s.merLr(),
                s.merBeta(), s.merGamma(), s.merSteps(), s.merChunks(), s.mamlInnerLr(),
                s.evalBatch(), s.threads()));
        ClassicConfig p = ClassicConfig.defaults("permuted-mnist");
        assertEquals(List.of(2, 128, 1e2), List.of(p.epochs(), p.batchSize(), p.ewcLambda()));
        assertEquals(Scenario.DOMAIN, p.scenario());
        ClassicConfig r = ClassicConfig.defaults("rotated-mnist");
        assertEquals(List.of(1, 10, 1e3), List.of(r.epochs(), r.batchSize(), r.ewcLambda()));
    }

    @Test
    void lrIsLearningRate() {
        assertEquals(parse(Map.of("learning-rate", "0.01")), parse(Map.of("lr", "0.01")));
        assertEquals(0.01, parse(Map.of("lr", "0.01")).learningRate());
        assertEquals("--learning-rate 0 must be greater than 0", assertThrows(UserError.class,
                () -> parse(Map.of("lr", "0"))).getMessage());
    }

    @Test
    void givenValuesWinOverTheBenchmarksDefaults() {
        ClassicConfig c = parse(Map.of("benchmark", "Rotated-MNIST", "epochs", "3",
                "batch-size", "7", "ewc-lambda", "0", "hidden", "16", "fisher-mode", "EMPIRICAL"));
        assertEquals(List.of("rotated-mnist", 3, 7, 0.0, "empirical"), List.of(c.benchmark(),
                c.epochs(), c.batchSize(), c.ewcLambda(), c.fisherMode()));
        assertArrayEquals(new int[] {16}, c.hidden());
        assertEquals("--seeds 0 must be at least 1", assertThrows(UserError.class,
                () -> parse(Map.of("seeds", "0"))).getMessage());
    }

    /** results.json's config keeps its keys (readers and reports depend on them). */
    @Test
    void resultsKeysAreUnchanged() {
        ClassicConfig c = ClassicConfig.defaults("permuted-mnist");
        List<String> keys = new ArrayList<>();
        c.toJson(Strategy.MER).fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("benchmark", "scenario", "strategy", "mnist", "tasks", "seeds",
                "seed", "epochs", "batch_size", "learning_rate", "optimizer", "hidden",
                "replay_samples", "replay_mode", "replay_batch", "mer_lr", "mer_beta", "mer_gamma",
                "mer_steps", "mer_chunks", "eval_batch", "threads"), keys);
        keys.clear();
        ClassicConfig.defaults("split-mnist").toJson(Strategy.ONLINE_EWC).fieldNames()
                .forEachRemaining(keys::add);
        assertTrue(keys.containsAll(List.of("ewc_lambda", "ewc_gamma", "fisher_samples",
                "fisher_mode")) && !keys.contains("tasks"), keys.toString());
    }
}
