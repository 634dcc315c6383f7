package dev.retain.classic;

import dev.retain.core.Engines;
import dev.retain.core.util.Seeds;
import dev.retain.classic.data.Benchmark;
import dev.retain.classic.data.Examples;
import dev.retain.classic.data.Task;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One seed of a classic continual-learning run: builds the model, trains it on each task in
 * turn with the strategy's {@link Learner}, and measures the accuracy on every task's test set
 * before training (row 0) and after each task (rows 1..T).
 *
 * <p>An accuracy is the share of a task's test images whose argmax over the columns the scenario
 * allows ({@link OutputLayout}) is the right one; in class-IL the allowed columns after stage
 * {@code k} are the classes of tasks {@code 1..k} (all of them in row 0), so a task not learned
 * yet scores 0 there.
 */
public final class ClassicTrainer {

    /**
     * What one stage cost.
     *
     * @param stage 0-based stage (= task) index
     * @param task the task's name
     * @param steps optimizer (or SGD) steps
     * @param newExamples new training examples processed (counting repeats over epochs)
     * @param replayExamples replayed examples processed
     * @param trainSeconds training time
     * @param fisherSeconds Fisher estimation time (EWC)
     * @param evalSeconds evaluation time of the stage's row
     * @param wallSeconds all of it
     */
    public record Stage(int stage, String task, long steps, long newExamples,
            long replayExamples, double trainSeconds, double fisherSeconds, double evalSeconds,
            double wallSeconds) {}

    /**
     * The outcome of one seed.
     *
     * @param seed the seed
     * @param tasks task names in training order
     * @param accuracy {@code [T + 1][T]}: row 0 before training, row k after task k
     * @param stages one per task
     * @param modelName the model's description
     * @param parameters its parameter count
     */
    public record SeedResult(long seed, List<String> tasks, double[][] accuracy,
            List<Stage> stages, String modelName, long parameters) {}

    private ClassicTrainer() {}

    /**
     * Runs one seed.
     *
     * @param config the settings (resolved)
     * @param strategy the strategy (already checked against the scenario)
     * @param benchmark the task sequence
     * @param seed the seed of everything random in this run
     * @param log progress lines (may ignore them)
     * @return the accuracy matrix and the stage costs
     */
    public static SeedResult run(ClassicConfig config, Strategy strategy, Benchmark benchmark,
            long seed, Consumer<String> log) {
        strategy.check(config.scenario());
        int threadsBefore = Engines.threads();
        Engines.threads(config.threads());
        try {
            return runSeed(config, strategy, benchmark, seed, log);
        } finally {
            Engines.threads(threadsBefore);
        }
    }

    private static SeedResult runSeed(ClassicConfig config, Strategy strategy,
            Benchmark benchmark, long seed, Consumer<String> log) {
        int tasks = benchmark.numTasks();
        OutputLayout layout = OutputLayout.of(benchmark, config.scenario());
        try (NDManager root = NDManager.newBaseManager(Device.cpu(), "PyTorch");
                Classifier model = model(root, config, strategy, benchmark, layout, seed)) {
            ClassicContext ctx = new ClassicContext(config, strategy, benchmark, model, root,
                    seed);
            TestSets tests = new TestSets(ctx);
            double[][] acc = new double[tasks + 1][];
            acc[0] = tests.evaluateAll(tasks);
            List<Stage> stages = new ArrayList<>();
            try (Learner learner = learner(ctx, strategy)) {
                for (int t = 0; t < tasks; t++) {
                    Task task = benchmark.task(t);
                    long t0 = System.nanoTime();
                    long steps0 = ctx.steps;
                    long new0 = ctx.newExamples;
                    long rep0 = ctx.replayExamples;
                    double fisher0 = ctx.fisherSeconds;
                    ctx.seenTasks = t + 1;
                    model.startTask(t);
                    learner.learnTask(task);
                    learner.afterTask(task);
                    long t1 = System.nanoTime();
                    acc[t + 1] = tests.evaluateAll(t + 1);
                    long t2 = System.nanoTime();
                    double fisher = ctx.fisherSeconds - fisher0;
                    stages.add(new Stage(t, task.name(), ctx.steps - steps0,
                            ctx.newExamples - new0, ctx.replayExamples - rep0,
                            (t1 - t0) / 1e9 - fisher, fisher, (t2 - t1) / 1e9,
                            (t2 - t0) / 1e9));
                    log.accept(String.format(Locale.ROOT, "  %s seed %d  task %d/%d %-6s"
                            + " %5.1f s  accuracy %s", strategy.key(), seed, t + 1, tasks,
                            task.name(), (t2 - t0) / 1e9, percent(acc[t + 1], t + 1)));
                }
            }
            List<String> names = benchmark.tasks().stream().map(Task::name).toList();
            return new SeedResult(seed, names, acc, stages, model.name(),
                    model.parameterCount());
        }
    }

    private static String percent(double[] row, int upTo) {
        StringBuilder sb = new StringBuilder();
        for (int j = 0; j < upTo; j++) {
            sb.append(j == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.1f",
                    100 * row[j]));
        }
        return sb.toString();
    }

    /**
     * Builds the model a strategy trains: a {@link ProgressiveNet} for {@code pnn}, else an
     * {@link Mlp} with all heads side by side.
     */
    static Classifier model(NDManager root, ClassicConfig c, Strategy s, Benchmark b,
            OutputLayout layout, long seed) {
        long init = Seeds.derive(seed, "init", 0);
        if (s == Strategy.PNN) {
            return new ProgressiveNet(root, b.inputSize(), c.hidden(), layout.heads(),
                    layout.width(), init);
        }
        return new Mlp(root, b.inputSize(), c.hidden(), layout.total(), init);
    }

    /** The preset of each strategy. */
    static Learner learner(ClassicContext ctx, Strategy s) {
        ClassicConfig c = ctx.config;
        ReplayMemory.Grouping grouping = ReplayMemory.Grouping.of(c.replayMode());
        switch (s) {
            case NAIVE:
            case PNN:
                return new BatchLearner(ctx, List.of(), false);
            case JOINT:
                return new BatchLearner(ctx, List.of(), true);
            case EWC:
                return new BatchLearner(ctx, List.of(new EwcRegularizer(ctx, false)), false);
            case ONLINE_EWC:
                return new BatchLearner(ctx, List.of(new EwcRegularizer(ctx, true)), false);
            case REPLAY:
                return new BatchLearner(ctx, List.of(new ReplayMemory(ctx, c.replaySamples(),
                        grouping, c.replayBatchFor(s))), false);
            case MER:
                return new MerLearner(ctx, new ReplayMemory(ctx, c.replaySamples(), grouping,
                        c.replayBatchFor(s)));
            case MAML:
                return new MamlLearner(ctx, (Mlp) ctx.model, new ReplayMemory(ctx,
                        c.replaySamples(), grouping, c.replayBatchFor(s)));
            default:
                throw new IllegalArgumentException(s.toString());
        }
    }

    /** The test sets of a run, materialised once, and the accuracy on them. */
    static final class TestSets {

        private final ClassicContext ctx;
        private final Map<Integer, float[]> pixels = new HashMap<>();
        private final Map<Integer, int[]> labels = new HashMap<>();

        TestSets(ClassicContext ctx) {
            this.ctx = ctx;
        }

        /**
         * @param seen tasks trained so far; in class-IL their classes are the ones allowed to
         *     compete (the base row passes {@code T}: every class)
         * @return the accuracy on each task's test set
         */
        double[] evaluateAll(int seen) {
            int tasks = ctx.benchmark.numTasks();
            double[] row = new double[tasks];
            for (int j = 0; j < tasks; j++) {
                row[j] = accuracy(j, seen);
            }
            return row;
        }

        double accuracy(int j, int seen) {
            Task task = ctx.benchmark.task(j);
            Examples test = task.test();
            float[] px = pixels.computeIfAbsent(j, k -> test.pixels());
            int[] y = labels.computeIfAbsent(j, k -> task.labels(ctx.config.scenario(), test));
            int d = test.inputSize();
            int n = test.size();
            int ok = 0;
            int bs = ctx.config.evalBatch();
            for (int from = 0; from < n; from += bs) {
                int to = Math.min(n, from + bs);
                int[] t = new int[to - from];
                Arrays.fill(t, j);
                Minibatch mb = new Minibatch(t, Arrays.copyOfRange(y, from, to),
                        Arrays.copyOfRange(px, from * d, to * d));
                try (NDManager scope = ctx.manager.newSubManager()) {
                    NDArray logits = ctx.model.logits(mb.x(scope), j, false);
                    ok += Losses.correct(logits, mb.mask(scope, ctx.layout, seen),
                            mb.targets(ctx.layout));
                }
            }
            return n == 0 ? 0 : (double) ok / n;
        }
    }
}
