// What keeping per-token detail costs a stage evaluation (docs/FORGETTING.md, "Cost"): run by
// tools/detail_cost.sh with the application's jar on the class path (Java's single-file launch).
//
// One process: the model is loaded and the domains' test splits tokenized once; after a warm-up
// evaluation each round evaluates each domain twice in a row, without detail and with it (the
// detail collected and a .tokd file of it written, as the trainer's stage evaluation does), the
// order alternating; the ratio with/without of each (round, domain) pair is taken and their median
// printed (pairs a second apart share the machine's load), for wall time and for the process's
// CPU time (all threads, libtorch's included), and the ratio of the fastest time of each domain
// over the rounds (the run least disturbed by other processes), with the summed times per round
// and the size of the file of all domains.
//
// usage: DetailCost MODEL TOKENIZER SEQ_LEN TEST_WINDOWS DETAIL_WINDOWS ROUNDS DOMAIN...

import dev.retain.core.Engines;
import dev.retain.core.model.CausalLm;
import dev.retain.core.text.Domain;
import dev.retain.core.text.GptTokenizer;
import dev.retain.core.text.Split;
import dev.retain.core.text.TokenFile;
import dev.retain.eval.EvalResult;
import dev.retain.eval.Evaluator;
import dev.retain.eval.forgotten.DetailCollector;
import dev.retain.eval.forgotten.TokenDetail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

public class DetailCost {

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        Path tokenizer = Path.of(args[1]);
        int seqLen = Integer.parseInt(args[2]);
        long testWindows = Long.parseLong(args[3]);
        int keep = Integer.parseInt(args[4]);
        int rounds = Integer.parseInt(args[5]);
        List<Domain> domains = new ArrayList<>();
        for (int i = 6; i < args.length; i++) {
            domains.add(Domain.of(Path.of(args[i])));
        }
        Path out = Files.createTempFile("detail-cost", ".tokd");
        try (CausalLm lm = CausalLm.load(model, Engines.device("auto"), 0);
                GptTokenizer tok = GptTokenizer.load(tokenizer)) {
            List<TokenFile> streams = new ArrayList<>();
            for (Domain d : domains) {
                streams.add(d.tokens(Split.TEST, tok, false));
            }
            Evaluator.Options opt = new Evaluator.Options(seqLen, 0, testWindows, 0, false);
            run(lm, domains, streams, opt, 0, out); // warm-up
            run(lm, domains, streams, opt, keep, out); // and the file of all domains
            double[] without = new double[rounds];
            double[] with = new double[rounds];
            double[] ratio = new double[rounds * domains.size()];
            double[] cpuRatio = new double[rounds * domains.size()];
            double[] minWithout = new double[domains.size()];
            double[] minWith = new double[domains.size()];
            Arrays.fill(minWithout, Double.MAX_VALUE);
            Arrays.fill(minWith, Double.MAX_VALUE);
            long tokens = 0;
            for (int r = 0; r < rounds; r++) {
                for (int d = 0; d < domains.size(); d++) {
                    List<Domain> one = List.of(domains.get(d));
                    List<TokenFile> its = List.of(streams.get(d));
                    Path f = Files.createTempFile("detail-cost", ".tokd");
                    double a;
                    double b;
                    double ca;
                    double cb;
                    if ((r + d) % 2 == 0) {
                        long c0 = cpu();
                        a = run(lm, one, its, opt, 0, f);
                        long c1 = cpu();
                        b = run(lm, one, its, opt, keep, f);
                        cb = cpu() - c1;
                        ca = c1 - c0;
                    } else {
                        long c0 = cpu();
                        b = run(lm, one, its, opt, keep, f);
                        long c1 = cpu();
                        a = run(lm, one, its, opt, 0, f);
                        ca = cpu() - c1;
                        cb = c1 - c0;
                    }
                    cpuRatio[r * domains.size() + d] = cb / ca;
                    minWithout[d] = Math.min(minWithout[d], a);
                    minWith[d] = Math.min(minWith[d], b);
                    Files.deleteIfExists(f);
                    without[r] += a;
                    with[r] += b;
                    ratio[r * domains.size() + d] = b / a;
                }
                System.out.printf(Locale.ROOT, "round %d: without %.3f s, with %.3f s%n", r + 1,
                        without[r], with[r]);
            }
            TokenDetail t = TokenDetail.read(out);
            for (var d : t.domains()) {
                tokens += d.predictedKept();
            }
            System.out.printf(Locale.ROOT, "model %s (%,d parameters), device %s, seq-len %d,"
                    + " %d domains, test windows %s, detail windows %d%n", model,
                    lm.parameterCount(), lm.device(), seqLen, domains.size(),
                    testWindows == 0 ? "all" : String.valueOf(testWindows), keep);
            System.out.printf(Locale.ROOT, "median over %d rounds: without %.3f s, with %.3f s;"
                    + " ratio with/without %.4f (median of %d per-domain pairs; quartiles %.4f,"
                    + " %.4f)%n", rounds, median(without), median(with), median(ratio),
                    ratio.length, quantile(ratio, 0.25), quantile(ratio, 0.75));
            System.out.printf(Locale.ROOT, "fastest of %d rounds per domain, summed: without %.3f"
                    + " s, with %.3f s, ratio %.4f%n", rounds, Arrays.stream(minWithout).sum(),
                    Arrays.stream(minWith).sum(), Arrays.stream(minWith).sum()
                            / Arrays.stream(minWithout).sum());
            System.out.printf(Locale.ROOT, "process CPU time ratio with/without %.4f (median;"
                    + " quartiles %.4f, %.4f)%n", median(cpuRatio), quantile(cpuRatio, 0.25),
                    quantile(cpuRatio, 0.75));
            System.out.printf(Locale.ROOT, "detail file: %,d bytes for %,d scored tokens in %d"
                    + " windows (%.2f bytes per token)%n", Files.size(out), tokens,
                    t.domains().stream().mapToInt(d -> d.windows().size()).sum(),
                    (double) Files.size(out) / tokens);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** Evaluates every domain (with detail when keep > 0, written to out); returns seconds. */
    static double run(CausalLm lm, List<Domain> domains, List<TokenFile> streams,
            Evaluator.Options opt, int keep, Path out) throws Exception {
        long t0 = System.nanoTime();
        DetailCollector c = keep > 0 ? new DetailCollector(keep) : null;
        for (int i = 0; i < domains.size(); i++) {
            EvalResult r = Evaluator.evaluate(lm, streams.get(i), domains.get(i).name(), "test",
                    opt, c == null ? null : c.sink());
            if (c != null) {
                c.finish(r);
            }
        }
        if (c != null) {
            c.detail(lm.source().toString(), "test", opt.window(), lm.vocabSize()).write(out);
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** @return the process's CPU time so far, nanoseconds (every thread) */
    static long cpu() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    static double quantile(double[] v, double q) {
        double[] s = v.clone();
        Arrays.sort(s);
        double at = q * (s.length - 1);
        int lo = (int) Math.floor(at);
        int hi = Math.min(s.length - 1, lo + 1);
        return s[lo] + (at - lo) * (s[hi] - s[lo]);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
