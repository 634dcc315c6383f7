package dev.retain.train.classic;

import dev.retain.core.Engines;
import dev.retain.train.classic.data.Mnist;
import dev.retain.train.classic.data.Scenario;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

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
     * @param benchmark the benchmark
     * @param scenario the scenario
     * @return a builder with a small MLP, one epoch, one seed
     */
    static ClassicConfig.Builder tiny(String benchmark, Scenario scenario) {
        return ClassicConfig.builder(benchmark).scenario(scenario).hidden(new int[] {32, 32})
                .epochs(1).seeds(1).fisherSamples(20);
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
