package dev.retain.classic;

import dev.retain.core.UserError;
import dev.retain.core.util.ResidentMemory;
import dev.retain.eval.metrics.ForgettingMetrics;
import dev.retain.eval.metrics.ScoreMatrix;
import dev.retain.eval.results.ClassifierResultsWriter;
import dev.retain.eval.results.ResultsCodec;
import dev.retain.classic.data.Benchmark;
import dev.retain.classic.data.Mnist;
import dev.retain.classic.data.PermutedMnist;
import dev.retain.classic.data.RotatedMnist;
import dev.retain.classic.data.SplitMnist;
import dev.retain.classic.data.Task;

import ai.djl.pytorch.jni.JniUtils;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A strategy run over several seeds: one {@link ClassicTrainer} run per seed, the accuracy
 * matrices' mean and standard deviation, the continual-learning metrics of each seed (from the
 * shared {@link ForgettingMetrics}) as mean and standard deviation, and {@code results.json}
 * (schema {@code retain.results/1}, {@code "kind": "classifier"}) written atomically after every
 * seed ({@code "status": "running"}) and at the end.
 *
 * <p>Standard deviations are the sample standard deviation over seeds (divisor {@code n - 1}; 0
 * for one seed).
 */
public final class ClassicRun {

    /** The metrics reported, in order: key in results.json, and how to take it. */
    public static final List<String> METRICS = List.of("average_accuracy", "average_forgetting",
            "backward_transfer", "forward_transfer");

    /**
     * A metric over seeds.
     *
     * @param mean the mean
     * @param std the sample standard deviation
     * @param perSeed each seed's value
     */
    public record Stat(double mean, double std, double[] perSeed) {

        /**
         * @param values one value per seed
         * @return their mean and sample standard deviation
         */
        public static Stat of(double[] values) {
            double m = 0;
            for (double v : values) {
                m += v;
            }
            m /= values.length;
            double s = 0;
            for (double v : values) {
                s += (v - m) * (v - m);
            }
            double sd = values.length > 1 ? Math.sqrt(s / (values.length - 1)) : 0;
            return new Stat(m, sd, values.clone());
        }
    }

    /**
     * The outcome of a strategy over all its seeds.
     *
     * @param strategy the strategy
     * @param config the settings
     * @param tasks task names in training order
     * @param seeds each seed's result
     * @param mean mean accuracy matrix over seeds
     * @param std its standard deviation
     * @param metrics metric key ({@link #METRICS}) to its statistics over seeds
     * @param wallSeconds wall time of all seeds
     * @param results the results.json written
     */
    public record Summary(Strategy strategy, ClassicConfig config, List<String> tasks,
            List<ClassicTrainer.SeedResult> seeds, double[][] mean, double[][] std,
            Map<String, Stat> metrics, double wallSeconds, Path results) {}

    private ClassicRun() {}

    /**
     * Builds a benchmark's task sequence for one seed (Permuted MNIST's permutations and Rotated
     * MNIST's split of the images among tasks come from the seed; Split MNIST is the same for
     * every seed).
     *
     * @param c the settings
     * @param mnist the data
     * @param seed the seed
     * @return the benchmark
     */
    public static Benchmark benchmark(ClassicConfig c, Mnist mnist, long seed) {
        switch (c.benchmark()) {
            case "split-mnist":
                return SplitMnist.of(mnist);
            case "permuted-mnist":
                return PermutedMnist.of(mnist, c.tasks(), seed, false);
            default:
                return RotatedMnist.of(mnist, c.tasks(), seed);
        }
    }

    /**
     * Checks what can be checked before training.
     *
     * @param c the settings
     * @param s the strategy
     * @param mnist the data
     * @throws UserError when the strategy cannot run in the scenario, or the replay memory would
     *     be larger than the training data
     */
    public static void check(ClassicConfig c, Strategy s, Mnist mnist) {
        s.check(c.scenario());
        if (s == Strategy.MAML && c.streamBatch() < 2) {
            throw new UserError("--stream-batch " + c.streamBatch() + ": maml splits each stream"
                    + " batch into support and query halves; use at least 2");
        }
        if (s.usesMemory()) {
            Benchmark b = benchmark(c, mnist, c.seedValue(0));
            long total = 0;
            for (Task t : b.tasks()) {
                total += t.train().size();
            }
            if (c.replaySamples() > total) {
                throw new UserError("--replay-samples " + c.replaySamples() + ": the memory"
                        + " would be larger than the " + total + " training examples of "
                        + c.benchmark() + " (all tasks together); use at most " + total);
            }
        }
    }

    /**
     * Runs every seed of a strategy and writes {@code runDir/results.json}.
     *
     * @param c the settings (resolved)
     * @param s the strategy
     * @param mnist the data
     * @param runDir the run directory (created)
     * @param log progress lines
     * @return the summary
     * @throws IOException when results.json cannot be written
     */
    public static Summary run(ClassicConfig c, Strategy s, Mnist mnist, Path runDir,
            Consumer<String> log) throws IOException {
        check(c, s, mnist);
        Files.createDirectories(runDir);
        // Measure this run's peak memory from here, not the peaks of strategies run before it.
        boolean reset = ResidentMemory.resetPeak();
        String started = Instant.now().toString();
        long t0 = System.nanoTime();
        List<ClassicTrainer.SeedResult> done = new ArrayList<>();
        Summary summary = null;
        for (int i = 0; i < c.seeds(); i++) {
            long seed = c.seedValue(i);
            Benchmark b = benchmark(c, mnist, seed);
            done.add(ClassicTrainer.run(c, s, b, seed, log));
            boolean last = i == c.seeds() - 1;
            summary = summarize(c, s, done, (System.nanoTime() - t0) / 1e9,
                    runDir.resolve(ResultsCodec.FILE_NAME));
            ClassifierResultsWriter w = json(summary, started, last);
            w.peakRssScope(reset);
            w.write(runDir);
        }
        return summary;
    }

    /**
     * Aggregates the seeds done so far.
     *
     * @param c the settings
     * @param s the strategy
     * @param seeds the seeds' results (at least one)
     * @param wallSeconds time so far
     * @param results where results.json goes
     * @return the summary
     */
    public static Summary summarize(ClassicConfig c, Strategy s,
            List<ClassicTrainer.SeedResult> seeds, double wallSeconds, Path results) {
        List<String> tasks = seeds.get(0).tasks();
        int rows = seeds.get(0).accuracy().length;
        int cols = tasks.size();
        double[][] mean = new double[rows][cols];
        double[][] std = new double[rows][cols];
        for (int k = 0; k < rows; k++) {
            for (int j = 0; j < cols; j++) {
                double[] v = new double[seeds.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = seeds.get(i).accuracy()[k][j];
                }
                Stat st = Stat.of(v);
                mean[k][j] = st.mean();
                std[k][j] = st.std();
            }
        }
        Map<String, Stat> metrics = new LinkedHashMap<>();
        double[][] per = new double[METRICS.size()][seeds.size()];
        for (int i = 0; i < seeds.size(); i++) {
            ForgettingMetrics m = ForgettingMetrics.of(new ScoreMatrix("accuracy", tasks,
                    seeds.get(i).accuracy(), true));
            per[0][i] = m.averageFinal();
            per[1][i] = m.averageForgetting();
            per[2][i] = m.backwardTransfer();
            per[3][i] = m.forwardTransfer();
        }
        for (int k = 0; k < METRICS.size(); k++) {
            metrics.put(METRICS.get(k), Stat.of(per[k]));
        }
        return new Summary(s, c, tasks, List.copyOf(seeds), mean, std, metrics, wallSeconds,
                results);
    }

    /**
     * The results.json of a summary.
     *
     * @param r the summary
     * @param started when the run started
     * @param complete whether every seed is done
     * @return the writer holding it
     */
    static ClassifierResultsWriter json(Summary r, String started, boolean complete) {
        ClassicConfig c = r.config();
        ClassicTrainer.SeedResult first = r.seeds().get(0);
        ClassifierResultsWriter w = ClassifierResultsWriter.start(r.strategy().key(),
                r.strategy().key(), started, r.seeds().stream().map(s -> s.seed()).toList(),
                c.toJson(r.strategy()), c.threads() > 0 ? c.threads() : JniUtils.getNumThreads(),
                "cpu()", first.modelName(), first.parameters(), r.tasks());
        if (complete) {
            w.complete(Instant.now().toString());
        }
        w.accuracy(r.mean(), r.std(), r.seeds().stream().map(s -> s.accuracy()).toList());
        r.metrics().forEach((k, st) -> w.metric(k, st.mean(), st.std(), st.perSeed()));
        long step = 0;
        int n = r.seeds().size();
        boolean ewc = r.strategy() == Strategy.EWC || r.strategy() == Strategy.ONLINE_EWC;
        for (int t = 0; t < r.tasks().size(); t++) {
            double train = 0;
            double fisher = 0;
            double eval = 0;
            double wall = 0;
            for (ClassicTrainer.SeedResult s : r.seeds()) {
                ClassicTrainer.Stage st = s.stages().get(t);
                train += st.trainSeconds() / n;
                fisher += st.fisherSeconds() / n;
                eval += st.evalSeconds() / n;
                wall += st.wallSeconds() / n;
            }
            ClassicTrainer.Stage f = first.stages().get(t);
            w.addStage(t, f.task(), step, f.steps(), f.newExamples(), f.replayExamples(), train,
                    ewc ? fisher : null, eval, wall);
            step += f.steps();
        }
        w.wallSeconds(r.wallSeconds());
        w.peakRss(ResidentMemory.peakBytes());
        return w;
    }
}
