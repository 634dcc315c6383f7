package dev.retain.eval.tasks;

import dev.retain.eval.tasks.TaskRequests.Request;
import dev.retain.eval.tasks.TaskScorer.Scored;
import dev.retain.eval.tasks.TaskScorer.Stats;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One task's scores, aggregated as lm-evaluation-harness aggregates them ({@code
 * api/task.py process_results}, {@code api/metrics.py}):
 *
 * <ul>
 *   <li>multiple choice: {@code acc} = mean of [argmax ll == gold]; {@code acc_norm} = mean of
 *       [argmax ll / len(choice) == gold], len in characters (code points) of the choice without
 *       the delimiter; argmax as numpy's (the first maximum; a NaN wins);
 *   <li>loglikelihood: {@code acc} = mean of is_greedy; {@code perplexity} = exp(-mean ll);
 *   <li>rolling: {@code word_perplexity} = exp(-sum ll / sum words), {@code byte_perplexity} =
 *       exp(-sum ll / sum bytes), {@code bits_per_byte} = -sum ll / sum bytes / ln 2;
 *   <li>standard errors: of a mean, sample standard deviation / sqrt(n); of perplexity, the
 *       harness's bootstrap (chunks of 1,000 resamples, chunk i drawn by {@code
 *       random.Random(i).choices}); none for the rolling metrics (the harness writes N/A), and
 *       none with a single example.
 * </ul>
 *
 * @param name the task's name
 * @param format its format
 * @param examples examples scored
 * @param metrics the metrics by name, in display order
 * @param stderr each metric's standard error, null where there is none
 * @param lls per example, each choice's (or the continuation's, or the document's) ll
 * @param greedy per example, each request's is_greedy (for a document, all its windows')
 * @param stats what scoring cost
 */
public record TaskResult(String name, TaskFormat format, int examples, Map<String, Double> metrics,
        Map<String, Double> stderr, double[][] lls, boolean[][] greedy, Stats stats) {

    /** Accuracy (multiple choice: argmax ll; loglikelihood: is_greedy). */
    public static final String ACC = "acc";
    /** Multiple choice: accuracy of argmax ll / characters. */
    public static final String ACC_NORM = "acc_norm";
    /** Loglikelihood: exp(-mean ll). */
    public static final String PERPLEXITY = "perplexity";
    /** Rolling: exp(-sum ll / words). */
    public static final String WORD_PERPLEXITY = "word_perplexity";
    /** Rolling: exp(-sum ll / bytes). */
    public static final String BYTE_PERPLEXITY = "byte_perplexity";
    /** Rolling: -sum ll / bytes / ln 2. */
    public static final String BITS_PER_BYTE = "bits_per_byte";

    /** Copies the maps. */
    public TaskResult {
        metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
        stderr = Collections.unmodifiableMap(new LinkedHashMap<>(stderr));
    }

    /** @return how the task was scored */
    public TaskKind kind() {
        return format.kind();
    }

    /**
     * @return the headline number: acc for multiple choice and loglikelihood tasks, word
     *     perplexity for rolling ones
     */
    public String headline() {
        return kind() == TaskKind.ROLLING ? WORD_PERPLEXITY : ACC;
    }

    /**
     * Aggregates a task's request scores.
     *
     * @param task the task
     * @param requests its requests, as built
     * @param scores their scores, in the same order
     * @param stats what scoring cost
     * @param bootstrapIters resamples for the perplexity's standard error (0 for none)
     * @return the result
     */
    public static TaskResult of(Task task, List<Request> requests, Scored[] scores, Stats stats,
            int bootstrapIters) {
        int n = requests.isEmpty() ? 0 : requests.get(requests.size() - 1).doc() + 1;
        double[][] lls = new double[n][];
        boolean[][] greedy = new boolean[n][];
        for (int i = 0; i < requests.size(); ) {
            int d = requests.get(i).doc();
            int j = i;
            while (j < requests.size() && requests.get(j).doc() == d) {
                j++;
            }
            lls[d] = new double[j - i];
            greedy[d] = new boolean[j - i];
            for (int k = i; k < j; k++) {
                lls[d][k - i] = scores[k].ll();
                greedy[d][k - i] = scores[k].greedy();
            }
            i = j;
        }
        Map<String, Double> m = new LinkedHashMap<>();
        Map<String, Double> se = new LinkedHashMap<>();
        switch (task.kind()) {
            case MULTIPLE_CHOICE -> multipleChoice(task, lls, m, se);
            case LOGLIKELIHOOD -> loglikelihood(lls, greedy, bootstrapIters, m, se);
            case ROLLING -> rolling(task, lls, m, se);
            default -> throw new IllegalStateException(task.kind().toString());
        }
        return new TaskResult(task.name(), task.format(), n, m, se, lls, greedy, stats);
    }

    private static void multipleChoice(Task task, double[][] lls, Map<String, Double> m,
            Map<String, Double> se) {
        double[] acc = new double[lls.length];
        double[] accNorm = new double[lls.length];
        for (int d = 0; d < lls.length; d++) {
            TaskDoc.Choice c = (TaskDoc.Choice) task.docs().get(d);
            double[] norm = new double[lls[d].length];
            for (int k = 0; k < norm.length; k++) {
                norm[k] = lls[d][k] / (double) PyText.length(c.choices().get(k));
            }
            acc[d] = argmax(lls[d]) == c.gold() ? 1.0 : 0.0;
            accNorm[d] = argmax(norm) == c.gold() ? 1.0 : 0.0;
        }
        m.put(ACC, mean(acc));
        se.put(ACC, meanStderr(acc));
        m.put(ACC_NORM, mean(accNorm));
        se.put(ACC_NORM, meanStderr(accNorm));
    }

    private static void loglikelihood(double[][] lls, boolean[][] greedy, int bootstrapIters,
            Map<String, Double> m, Map<String, Double> se) {
        double[] acc = new double[lls.length];
        double[] ll = new double[lls.length];
        for (int d = 0; d < lls.length; d++) {
            acc[d] = greedy[d][0] ? 1.0 : 0.0;
            ll[d] = lls[d][0];
        }
        m.put(ACC, mean(acc));
        se.put(ACC, meanStderr(acc));
        m.put(PERPLEXITY, Math.exp(-mean(ll)));
        se.put(PERPLEXITY, bootstrapIters > 0 && ll.length > 1
                ? bootstrapPerplexityStderr(ll, bootstrapIters) : null);
    }

    private static void rolling(Task task, double[][] lls, Map<String, Double> m,
            Map<String, Double> se) {
        double ll = 0;
        double words = 0;
        double bytes = 0;
        for (int d = 0; d < lls.length; d++) {
            TaskDoc.Text t = (TaskDoc.Text) task.docs().get(d);
            for (double w : lls[d]) {
                ll += w;
            }
            words += t.words();
            bytes += t.bytes();
        }
        m.put(WORD_PERPLEXITY, Math.exp(-ll / words));
        m.put(BYTE_PERPLEXITY, Math.exp(-ll / bytes));
        m.put(BITS_PER_BYTE, -ll / bytes / Math.log(2));
        se.put(WORD_PERPLEXITY, null);
        se.put(BYTE_PERPLEXITY, null);
        se.put(BITS_PER_BYTE, null);
    }

    /**
     * numpy's {@code argmax}: the first maximum, or the first NaN when there is one.
     *
     * @param xs values
     * @return the index
     */
    static int argmax(double[] xs) {
        int best = 0;
        for (int i = 0; i < xs.length; i++) {
            if (Double.isNaN(xs[i])) {
                return i;
            }
            if (xs[i] > xs[best]) {
                best = i;
            }
        }
        return best;
    }

    /** The harness's {@code mean}: {@code sum(arr) / len(arr)}, summed in order. */
    static double mean(double[] xs) {
        double s = 0;
        for (double x : xs) {
            s += x;
        }
        return s / xs.length;
    }

    /**
     * The harness's {@code mean_stderr}: sample standard deviation / sqrt(n); null for n < 2.
     *
     * @param xs values
     * @return the standard error of their mean
     */
    static Double meanStderr(double[] xs) {
        return xs.length < 2 ? null : sampleStddev(xs) / Math.sqrt(xs.length);
    }

    private static double sampleStddev(double[] xs) {
        double mu = mean(xs);
        double s = 0;
        for (double x : xs) {
            s += (x - mu) * (x - mu);
        }
        return Math.sqrt(s / (xs.length - 1));
    }

    /**
     * The harness's {@code bootstrap_stderr(perplexity, lls, iters)}: iters / 1000 chunks (at most
     * 1000 resamples each), chunk i drawn with {@code random.Random(i).choices(lls, k=n)}, each
     * resample's perplexity, then their sample standard deviation.
     *
     * @param ll the examples' log-likelihoods
     * @param iters resamples
     * @return the standard error
     */
    static double bootstrapPerplexityStderr(double[] ll, int iters) {
        int chunk = Math.min(1000, iters);
        int chunks = iters / chunk;
        double[] res = new double[chunks * chunk];
        int n = ll.length;
        // chunks are independent (their own seeds), as in the harness's process pool
        java.util.stream.IntStream.range(0, chunks).parallel().forEach(i -> {
            PyRandom rnd = new PyRandom(i);
            for (int c = 0; c < chunk; c++) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    s += ll[rnd.choice(n)];
                }
                res[i * chunk + c] = Math.exp(-(s / n));
            }
        });
        return sampleStddev(res);
    }
}
