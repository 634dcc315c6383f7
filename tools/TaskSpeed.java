import dev.retain.core.model.CausalLm;
import dev.retain.core.text.DomainSource;
import dev.retain.core.text.GptTokenizer;
import dev.retain.core.text.SourceOptions;
import dev.retain.core.text.Split;
import dev.retain.core.text.TokenFile;
import dev.retain.eval.EvalResult;
import dev.retain.eval.Evaluator;
import dev.retain.eval.tasks.LogitModel;
import dev.retain.eval.tasks.TaskResult;
import dev.retain.eval.tasks.TaskSuite;
import dev.retain.eval.tasks.TextEncoder;

import ai.djl.Device;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Task scoring speed against {@code retain eval}'s on the same model, in one process, the two
 * interleaved (issue 25, item 4). Each repeat scores W windows of a domain's test split with the
 * evaluator (the model's context each, non-overlapping) and then the first N examples of a task
 * file with the task scorer; both count the tokens fed to the model (eval: every window token;
 * tasks: every request's input token, padding not counted). A warm-up of each comes first.
 * Prints each repeat and the medians.
 *
 * <p>usage: {@code tools/task_speed.sh MODEL.pt DOMAIN_DIR TASK.jsonl WINDOWS EXAMPLES REPEATS
 * [THREADS]}
 * (it builds the jar and runs {@code java -cp llm-cli/target/retain.jar tools/TaskSpeed.java})
 */
public final class TaskSpeed {

    public static void main(String[] a) throws Exception {
        Path model = Path.of(a[0]);
        Path domain = Path.of(a[1]);
        Path task = Path.of(a[2]);
        int windows = Integer.parseInt(a[3]);
        int examples = Integer.parseInt(a[4]);
        int repeats = Integer.parseInt(a[5]);
        int threads = a.length > 6 ? Integer.parseInt(a[6]) : 0;
        dev.retain.core.Engines.threads(threads);
        try (CausalLm lm = CausalLm.load(model, Device.cpu(), 0);
                GptTokenizer tok = GptTokenizer.load(Path.of(
                        "datasets/tokenizers/gpt2/tokenizer.json"))) {
            TokenFile ids = DomainSource.of(domain, SourceOptions.defaults()).open(false)
                    .domain().tokens(Split.TEST, tok, false);
            TaskSuite suite = TaskSuite.read(List.of(task), List.of(), new TaskSuite.Options(0,
                    TaskSuite.DEFAULT_FEWSHOT_SEED, examples, 0, 0, false));
            TaskSuite.Prepared prepared = suite.prepare(TextEncoder.of(tok), lm.context());
            LogitModel m = LogitModel.of(lm);
            Evaluator.Options eo = new Evaluator.Options(0, 0, windows, 0, false);
            Evaluator.evaluate(lm, ids, "warm-up", "test", new Evaluator.Options(0, 0, 2, 0,
                    false));
            TaskSuite.read(List.of(task), List.of(), new TaskSuite.Options(0, 1234, 2, 0, 0,
                    false)).prepare(TextEncoder.of(tok), lm.context()).score(m);
            List<Double> evalTps = new ArrayList<>();
            List<Double> taskTps = new ArrayList<>();
            List<Double> ratio = new ArrayList<>();
            List<Double> cpuRatio = new ArrayList<>();
            System.out.printf(Locale.ROOT, "model %s: %,d parameters, context %d; %d windows"
                    + " of %s vs the first %d examples of %s; %d torch threads%n", model,
                    lm.parameterCount(), lm.context(), windows, domain, examples, task,
                    dev.retain.core.Engines.threads());
            for (int r = 1; r <= repeats; r++) {
                long c0 = cpuNanos();
                EvalResult e = Evaluator.evaluate(lm, ids, "d", "test", eo);
                long c1 = cpuNanos();
                TaskResult t = prepared.score(m).get(0);
                long c2 = cpuNanos();
                double et = (e.predicted() + e.windows()) / e.seconds();
                double tt = t.stats().tokensPerSecond();
                evalTps.add(et);
                taskTps.add(tt);
                ratio.add(tt / et);
                // tokens per CPU-second of the whole process (libtorch's threads included): less
                // sensitive to other processes on the cores than wall time
                double ec = (e.predicted() + e.windows()) / ((c1 - c0) / 1e9);
                double tc = t.stats().tokens() / ((c2 - c1) / 1e9);
                cpuRatio.add(tc / ec);
                System.out.printf(Locale.ROOT, "repeat %d: eval %,d tokens in %.2f s = %.0f"
                        + " tokens/s (%.0f predicted/s); tasks %,d tokens (%d requests, %d forward"
                        + " passes, padding %.0f%%) in %.2f s = %.0f tokens/s; ratio %.2f (per CPU"
                        + " second %.2f)%n", r,
                        e.predicted() + e.windows(), e.seconds(), et, e.tokensPerSecond(),
                        t.stats().tokens(), t.stats().requests(), t.stats().batches(),
                        100.0 * (t.stats().padded() - t.stats().tokens()) / t.stats().tokens(),
                        t.stats().seconds(), tt, tt / et, cpuRatio.get(r - 1));
            }
            System.out.printf(Locale.ROOT, "median: eval %.0f tokens/s, tasks %.0f tokens/s,"
                    + " ratio tasks/eval %.2f (min %.2f, max %.2f); per CPU second %.2f (min"
                    + " %.2f, max %.2f)%n", median(evalTps), median(taskTps), median(ratio),
                    Collections.min(ratio), Collections.max(ratio), median(cpuRatio),
                    Collections.min(cpuRatio), Collections.max(cpuRatio));
        }
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
