package dev.retain.classic;

import dev.retain.core.util.Seeds;
import dev.retain.classic.data.Benchmark;
import dev.retain.classic.data.Examples;
import dev.retain.classic.data.Task;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;

import java.util.List;
import java.util.Random;

/**
 * What the learners of one seed's run share: the settings, the data, the model, the run's
 * manager, and the counters that go into results.json.
 */
final class ClassicContext {

    final ClassicConfig config;
    final Strategy strategy;
    final Benchmark benchmark;
    final OutputLayout layout;
    final Classifier model;
    final NDManager manager;
    final long seed;
    final Engine engine;

    /** Tasks trained so far, the current one included (class-IL's active classes). */
    int seenTasks;
    long steps;
    long newExamples;
    long replayExamples;
    double fisherSeconds;

    ClassicContext(ClassicConfig config, Strategy strategy, Benchmark benchmark,
            Classifier model, NDManager manager, long seed) {
        this.config = config;
        this.strategy = strategy;
        this.benchmark = benchmark;
        this.layout = OutputLayout.of(benchmark, config.scenario());
        this.model = model;
        this.manager = manager;
        this.seed = seed;
        this.engine = Engine.getEngine("PyTorch");
    }

    /**
     * @param purpose what the randomness is for
     * @param index the stage, epoch or step
     * @return a generator of its own, derived from the seed (never a global one)
     */
    Random rng(String purpose, long index) {
        return new Random(Seeds.derive(seed, purpose, index));
    }

    /**
     * Builds a minibatch from stored examples.
     *
     * @param refs the examples
     * @return their pixels and labels
     */
    Minibatch minibatch(List<ExampleRef> refs) {
        int d = benchmark.inputSize();
        int n = refs.size();
        int[] t = new int[n];
        int[] y = new int[n];
        float[] px = new float[n * d];
        for (int i = 0; i < n; i++) {
            ExampleRef r = refs.get(i);
            Task task = benchmark.task(r.task());
            Examples ex = task.train();
            ex.image(r.example(), px, i * d);
            t[i] = r.task();
            y[i] = task.label(config.scenario(), ex.digit(r.example()));
        }
        return new Minibatch(t, y, px);
    }
}
