package dev.retain.classic;

import dev.retain.core.Engines;
import dev.retain.classic.data.Mnist;
import dev.retain.classic.data.Scenario;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.util.LinkedHashMap;
import java.util.Map;

/** Shared data and tiny settings for the classic tests (small models, one epoch: seconds). */
final class ClassicFixtures {

    private static Mnist mnist;

    private ClassicFixtures() {}

    /** @return the shipped MNIST subset, read once */
    static synchronized Mnist mnist() {
        if (mnist == null) {
            Engines.pytorch();
            mnist = Mnist.loadDefault();
        }
        return mnist;
    }

    /**
     * Settings as the command line takes them, with a small MLP, one epoch and one seed unless
     * {@code settings} say otherwise.
     *
     * @param benchmark the benchmark
     * @param scenario the scenario
     * @param settings pairs of name and value as on the command line, e.g. "hidden", "16"
     * @return the configuration
     */
    static ClassicConfig tiny(String benchmark, Scenario scenario, String... settings) {
        Map<String, String> texts = new LinkedHashMap<>(Map.of("benchmark", benchmark, "hidden",
                "32,32", "epochs", "1", "seeds", "1", "fisher-samples", "20"));
        for (int i = 0; i < settings.length; i += 2) {
            texts.put(settings[i], settings[i + 1]);
        }
        return ClassicConfig.of(ClassicConfig.TABLE.parseTexts(texts), scenario);
    }

    /** @return the values of an array as floats (copy) */
    static float[] values(NDArray a) {
        return a.toFloatArray();
    }

    /**
     * @param m manager
     * @param rows rows
     * @param cols columns
     * @param seed seed
     * @return a [rows, cols] array of deterministic values in [-1, 1]
     */
    static NDArray pseudoRandom(NDManager m, int rows, int cols, long seed) {
        java.util.Random r = new java.util.Random(seed);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextFloat() * 2 - 1;
        }
        return m.create(v, new ai.djl.ndarray.types.Shape(rows, cols));
    }
}
