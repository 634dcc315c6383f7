package dev.retain.bench;

import dev.retain.core.util.Json;
import dev.retain.train.ContinualTrainer;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * The benchmark's step rounds, on the second domain: the bare step (and, when the steps compute
 * in bf16, the float32 bare step beside it) and every trainer take their turn in every round, in
 * a rotating order, so that a change of load falls on all of them alike. It keeps each variant's
 * step times and CPU time, writes them into the report ({@code steps}, {@code bare_step}, {@code
 * bare_step_fp32}: medians, quantiles, throughput, MFU, the ratio to naive) and gives the medians
 * the report's step ratios are taken from.
 */
final class StepRounds {

    private final Bench bench;
    private final BenchSpec spec;
    private final BareStep bare;
    private final BareStep bareFp32;
    /** Each variant by name: runs n steps, gives each step's seconds. */
    private final Map<String, IntFunction<double[]>> variants = new LinkedHashMap<>();
    /** Each variant's step times, one array per round. */
    private final Map<String, List<double[]>> times = new LinkedHashMap<>();
    /** Each variant's CPU seconds per step, one per round. */
    private final Map<String, List<Double>> cpu = new LinkedHashMap<>();
    /** Each variant's median step seconds over all rounds (filled by {@link #report}). */
    private final Map<String, Double> med = new LinkedHashMap<>();
    /** Each variant's median step seconds in each round. */
    private final Map<String, double[]> roundMed = new LinkedHashMap<>();

    /**
     * @param bench the benchmark
     * @param bare the bare step, warmed up
     * @param bareFp32 the float32 bare step beside a bf16 one, or null
     * @param trainers the trainers by strategy, in their second domain
     */
    StepRounds(Bench bench, BareStep bare, BareStep bareFp32,
            Map<String, ContinualTrainer> trainers) {
        this.bench = bench;
        this.spec = bench.spec();
        this.bare = bare;
        this.bareFp32 = bareFp32;
        variants.put("bare", bare::time);
        if (bareFp32 != null) {
            variants.put("bare-fp32", bareFp32::time);
        }
        trainers.forEach((k, t) -> variants.put(k, n -> TrainerSteps.time(t, n)));
        variants.keySet().forEach(k -> times.put(k, new ArrayList<>()));
        variants.keySet().forEach(k -> cpu.put(k, new ArrayList<>()));
    }

    /** The rounds: {@code steps} spread over {@code rounds}, every variant in every round. */
    void run() {
        List<String> order = new ArrayList<>(variants.keySet());
        for (int r = 0; r < spec.rounds(); r++) {
            int n = spec.steps() / spec.rounds() + (r < spec.steps() % spec.rounds() ? 1 : 0);
            bench.say("round %d/%d: %d steps each of %s", r + 1, spec.rounds(), n,
                    String.join(", ", order));
            for (String k : order) {
                double c0 = Machine.processCpuSeconds();
                times.get(k).add(variants.get(k).apply(n));
                cpu.get(k).add((Machine.processCpuSeconds() - c0) / n);
            }
            order.add(order.remove(0));
        }
    }

    /**
     * Writes every variant's timings: the trainers' into {@code steps}, the bare steps' into
     * {@code bare_step} and {@code bare_step_fp32}.
     *
     * @param domainEnd each trainer's domain-end seconds, by strategy
     * @param flopsPerStep a training step's FLOPs
     * @param tokensPerStep the tokens a step trains on
     * @param fp32Peak the float32 matrix-multiply peak (the float32 bare step's MFU ceiling)
     * @param peakFlops the peak of the precision the steps compute in (everyone else's)
     */
    void report(ObjectNode domainEnd, double flopsPerStep, double tokensPerStep, double fp32Peak,
            double peakFlops) {
        ObjectNode root = bench.root();
        ObjectNode steps = Json.object();
        times.forEach((k, rs) -> roundMed.put(k, rs.stream().mapToDouble(Stats::median)
                .toArray()));
        for (String k : times.keySet()) {
            double[] all = allTimes(k);
            med.put(k, Stats.median(all));
            boolean isBare = k.startsWith("bare");
            ObjectNode o = isBare ? Json.object() : steps.putObject(k);
            timings(o, k, all, flopsPerStep / Stats.median(all), tokensPerStep,
                    k.equals("bare-fp32") ? fp32Peak : peakFlops);
            if (isBare) {
                double[][] ph = (k.equals("bare") ? bare : bareFp32).phases();
                ObjectNode phases = o.putObject("phases_seconds_median");
                for (int i = 0; i < BareStep.PHASES.length; i++) {
                    phases.put(BareStep.PHASES[i], Stats.median(ph[i]));
                }
                o.put("precision", k.equals("bare") ? bench.precision() : "fp32");
                root.set(k.equals("bare") ? "bare_step" : "bare_step_fp32", o);
            } else {
                o.put("domain_end_seconds", domainEnd.get(k).asDouble());
            }
        }
        root.set("steps", steps);
    }

    /** One variant's step times, throughput, CPU time, MFU and ratio to naive. */
    private void timings(ObjectNode o, String k, double[] all, double flopsPerSecond,
            double tokensPerStep, double peak) {
        o.set("seconds", Bench.array(all));
        o.put("seconds_median", Stats.median(all));
        o.put("seconds_p10", Stats.quantile(all, 0.1));
        o.put("seconds_p90", Stats.quantile(all, 0.9));
        o.put("tokens_per_second", tokensPerStep / Stats.median(all));
        o.put("cpu_seconds_per_step", Stats.median(cpu.get(k).stream()
                .mapToDouble(Double::doubleValue).toArray()));
        o.put("mfu", Stats.ratio(flopsPerSecond, peak));
        if (!k.equals("naive")) {
            o.put("over_naive_paired", paired(k, "naive"));
            o.put("over_naive_of_medians", Stats.ratio(Stats.median(all),
                    Stats.median(allTimes("naive"))));
        }
    }

    /** @return a variant's step times over all rounds */
    private double[] allTimes(String k) {
        return Stats.concat(times.get(k).toArray(new double[0][]));
    }

    /** @return a variant's median step seconds over all rounds ({@link #report} first) */
    double median(String k) {
        return med.get(k);
    }

    /**
     * The step ratio of two variants, paired: the median over rounds of the ratio within a round,
     * which cancels load that changes between rounds.
     *
     * @return the ratio; NaN for a variant not timed
     */
    double paired(String a, String b) {
        double[] x = roundMed.get(a);
        double[] y = roundMed.get(b);
        if (x == null || y == null) {
            return Double.NaN;
        }
        double[] r = new double[Math.min(x.length, y.length)];
        for (int i = 0; i < r.length; i++) {
            r[i] = Stats.ratio(x[i], y[i]);
        }
        return Stats.median(r);
    }

    /** @return a strategy's median step over naive's; NaN for a strategy not timed */
    double overNaiveOfMedians(String strategy) {
        return med.containsKey(strategy) ? Stats.ratio(med.get(strategy), med.get("naive"))
                : Double.NaN;
    }
}
