package dev.retain.bench;

import dev.retain.core.Engines;
import dev.retain.core.model.Precision;
import dev.retain.core.text.Split;
import dev.retain.core.util.ResidentMemory;
import dev.retain.core.text.TokenFile;
import dev.retain.core.util.Json;
import dev.retain.eval.EvalResult;
import dev.retain.eval.Evaluator;
import dev.retain.train.ContinualTrainer;
import dev.retain.train.RunSetup;
import dev.retain.train.TrainConfig;
import dev.retain.train.lifecycle.DriftRecorder;
import dev.retain.train.lifecycle.StageEvaluation;
import dev.retain.train.lifecycle.StageExport;
import dev.retain.train.lm.EwcPlugin;
import dev.retain.train.lm.LmFisher;
import dev.retain.train.lm.Strategies;
import dev.retain.train.optim.AdamW;
import dev.retain.train.optim.Schedule;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.stream.Stream;

/**
 * Runs the measurements of a {@link BenchSpec} in one process, after warm-up, and reports medians
 * and the ratios the targets are stated in.
 *
 * <p>Order: the matrix-multiply peak; the four trainers (naive, ewc, replay, ewc+replay, each a
 * {@link ContinualTrainer} in a temporary run folder) learn a few steps of the first domain and
 * do their domain-end work ({@link ContinualTrainer#skipToNextDomain()}: EWC's Fisher,
 * replay's buffer), then the bare step and the trainers take turns in rounds on the second domain; then
 * {@code repeats} times: a few naive steps, a per-sequence and a batched Fisher estimate and an
 * evaluation, each ratio taken against the naive steps of its own repeat; then the resident
 * memory over {@code rss-steps} ewc+replay steps; then the {@code retain info} launch.
 */
public final class Bench {

    private final BenchSpec spec;
    private final PrintStream log;
    private final ObjectNode root = Json.object();
    /** The phase whose peak resident memory is being measured, null outside one. */
    private String memoryPhase;
    /** The precision the trainers and the bare step compute in ({@code fp32} or {@code bf16}). */
    private String precision = "fp32";

    private Bench(BenchSpec spec, PrintStream log) {
        this.spec = spec;
        this.log = log;
    }

    BenchSpec spec() {
        return spec;
    }

    ObjectNode root() {
        return root;
    }

    /** @return whether progress lines are printed */
    boolean verbose() {
        return spec.progress() && log != null;
    }

    /**
     * Runs the benchmark.
     *
     * @param spec what to measure
     * @param log where progress lines go (stderr), or null
     * @return the report
     * @throws IOException when the temporary run folders cannot be written
     */
    public static BenchReport run(BenchSpec spec, PrintStream log) throws IOException {
        return new Bench(spec, log).go();
    }

    void say(String fmt, Object... args) {
        if (spec.progress() && log != null) {
            log.println("bench: " + String.format(Locale.ROOT, fmt, args));
            log.flush();
        }
    }

    private BenchReport go() throws IOException {
        root.put("schema", BenchReport.SCHEMA);
        root.put("started", Instant.now().toString());
        double[] load0 = Machine.loadAverage();
        long[] jiffies0 = Machine.cpuJiffies();
        double cpu0 = Machine.processCpuSeconds();
        long wall0 = System.nanoTime();
        Device device = Engines.device(spec.device());
        Engines.threads(spec.threads());
        ObjectNode machine = Machine.describe();
        machine.put("device", device.toString());
        root.set("machine", machine);

        boolean bf16 = PrecisionSideBySide.resolve(this, device).precision() == Precision.BF16;
        precision = bf16 ? "bf16" : "fp32";
        say("matmul peak: %d x %d x %d, %d timed%s", spec.matmulSize(), spec.matmulSize(),
                spec.matmulSize(), spec.matmulRepeats(), bf16 ? ", in fp32 and bf16 in turn" : "");
        ObjectNode peaks = Peaks.measure(spec.matmulSize(), spec.matmulRepeats(), device, bf16);
        root.set("matmul", peaks.get("fp32"));
        if (bf16) {
            root.set("matmul_bf16", peaks.get("bf16"));
        }
        double fp32Peak = peaks.get("fp32").get("flops_per_second_median").asDouble();
        // MFU is against the peak of the precision the steps compute in.
        double peakFlops = peaks.get(precision).get("flops_per_second_median").asDouble();

        Path work = Files.createTempDirectory("retain-bench");
        Map<String, ContinualTrainer> trainers = new LinkedHashMap<>();
        BareStep bare = null;
        BareStep bareFp32 = null;
        try {
            phase("load");
            for (String s : spec.strategies()) {
                trainers.put(s, ContinualTrainer.start(setup(s), work.resolve(dirName(s)), false));
            }
            ContinualTrainer naive = trainers.get("naive");
            int seq = naive.context().seqLen();
            int batch = spec.batch();
            int windows = spec.windowsPerStep();
            ModelShape shape = ModelShape.of(naive.context().model());
            root.set("model", BenchFacts.model(spec, shape));
            root.set("settings", BenchFacts.settings(spec, seq, precision));
            double tokensPerStep = (double) windows * seq;

            // Domain 0: warm up, then the strategies' domain-end work.
            phase("warm-up and domain end");
            ObjectNode domainEnd = Json.object();
            for (var e : trainers.entrySet()) {
                say("%s: %d warm-up steps on %s, then its domain-end work", e.getKey(),
                        Math.max(1, spec.warmup()), naive.context().domains().get(0));
                TrainerSteps.time(e.getValue(), Math.max(1, spec.warmup()));
                domainEnd.put(e.getKey(), TrainerSteps.domainEnd(e.getValue()));
                if (spec.warmup() > 0) {
                    TrainerSteps.time(e.getValue(), spec.warmup());
                }
            }
            bare = bareStep(device, naive, batch, seq, Precision.of(precision));
            if (bf16) { // side by side: the float32 bare step takes its turn in every round
                bareFp32 = bareStep(device, naive, batch, seq, Precision.FP32);
            }

            // Rounds: every variant takes its turn in every round, in a rotating order.
            Map<String, IntFunction<double[]>> variants = new LinkedHashMap<>();
            BareStep b = bare;
            variants.put("bare", b::time);
            if (bareFp32 != null) {
                variants.put("bare-fp32", bareFp32::time);
            }
            trainers.forEach((k, t) -> variants.put(k, n -> TrainerSteps.time(t, n)));
            Map<String, List<double[]>> times = new LinkedHashMap<>();
            Map<String, List<Double>> cpu = new LinkedHashMap<>();
            variants.keySet().forEach(k -> times.put(k, new ArrayList<>()));
            variants.keySet().forEach(k -> cpu.put(k, new ArrayList<>()));
            List<String> order = new ArrayList<>(variants.keySet());
            phase("steps");
            for (int r = 0; r < spec.rounds(); r++) {
                int n = spec.steps() / spec.rounds() + (r < spec.steps() % spec.rounds() ? 1 : 0);
                say("round %d/%d: %d steps each of %s", r + 1, spec.rounds(), n,
                        String.join(", ", order));
                for (String k : order) {
                    double c0 = Machine.processCpuSeconds();
                    times.get(k).add(variants.get(k).apply(n));
                    cpu.get(k).add((Machine.processCpuSeconds() - c0) / n);
                }
                order.add(order.remove(0));
            }
            ObjectNode steps = Json.object();
            Map<String, Double> med = new LinkedHashMap<>();
            Map<String, double[]> roundMed = new LinkedHashMap<>();
            times.forEach((k, rs) -> roundMed.put(k, rs.stream().mapToDouble(Stats::median)
                    .toArray()));
            for (var e : times.entrySet()) {
                double[] all = Stats.concat(e.getValue().toArray(new double[0][]));
                med.put(e.getKey(), Stats.median(all));
                boolean isBare = e.getKey().startsWith("bare");
                ObjectNode o = isBare ? Json.object() : steps.putObject(e.getKey());
                o.set("seconds", array(all));
                o.put("seconds_median", Stats.median(all));
                o.put("seconds_p10", Stats.quantile(all, 0.1));
                o.put("seconds_p90", Stats.quantile(all, 0.9));
                o.put("tokens_per_second", tokensPerStep / Stats.median(all));
                o.put("cpu_seconds_per_step", Stats.median(cpu.get(e.getKey()).stream()
                        .mapToDouble(Double::doubleValue).toArray()));
                o.put("mfu", Stats.ratio(shape.trainFlopsPerStep(windows, seq) / Stats.median(all),
                        e.getKey().equals("bare-fp32") ? fp32Peak : peakFlops));
                if (!e.getKey().equals("naive")) {
                    o.put("over_naive_paired", paired(roundMed.get(e.getKey()),
                            roundMed.get("naive")));
                    o.put("over_naive_of_medians", Stats.ratio(Stats.median(all),
                            Stats.median(Stats.concat(times.get("naive").toArray(
                                    new double[0][])))));
                }
                if (isBare) {
                    double[][] ph = (e.getKey().equals("bare") ? bare : bareFp32).phases();
                    ObjectNode phases = o.putObject("phases_seconds_median");
                    for (int i = 0; i < BareStep.PHASES.length; i++) {
                        phases.put(BareStep.PHASES[i], Stats.median(ph[i]));
                    }
                    o.put("precision", e.getKey().equals("bare") ? precision : "fp32");
                    root.set(e.getKey().equals("bare") ? "bare_step" : "bare_step_fp32", o);
                } else {
                    o.put("domain_end_seconds", domainEnd.get(e.getKey()).asDouble());
                }
            }
            root.set("steps", steps);
            bare.close();
            bare = null;
            if (bareFp32 != null) {
                bareFp32.close();
                bareFp32 = null;
            }
            String last = spec.strategies().get(spec.strategies().size() - 1);
            for (String s : List.copyOf(trainers.keySet())) {
                if (!s.equals("naive") && !s.equals(last)) {
                    trainers.remove(s).close();
                }
            }

            phase("fisher and evaluation");
            new PairedPhases(this).run(naive, batch, windows, seq, tokensPerStep);
            if (bf16) {
                PrecisionSideBySide.evaluation(this, device, naive.context().tokens(Split.TEST,
                        1), naive.context().domains().get(1), seq);
            }
            // Memory over the last strategy (ewc+replay runs every code path: penalty, replay
            // mixing), so a leak in any of them shows.
            phase("memory probe");
            MemoryProbe.run(this, last, trainers.get(last));
            phase("export");
            ExportProbe.run(this, trainers.get(last), work);
            phase("checkpoint");
            ContinualTrainer closed = trainers.remove(last);
            CheckpointProbe.run(this, closed, work.resolve(dirName(last)));
            phase(null);

            ObjectNode mfu = root.putObject("mfu");
            mfu.put("flops_per_token", shape.trainFlopsPerToken(seq));
            mfu.put("flops_per_step", shape.trainFlopsPerStep(windows, seq));
            mfu.put("peak_flops_per_second", peakFlops);
            mfu.put("peak_precision", precision);
            mfu.put("naive", Stats.ratio(shape.trainFlopsPerStep(windows, seq) / med.get("naive"),
                    peakFlops));
            mfu.put("bare", Stats.ratio(shape.trainFlopsPerStep(windows, seq) / med.get("bare"),
                    peakFlops));

            // Step ratios: the median over rounds of the ratio within a round (paired), which
            // cancels load that changes between rounds; the ratio of the medians is kept beside.
            ObjectNode ratios = root.putObject("ratios");
            ratios.put("naive_over_bare", paired(roundMed.get("naive"), roundMed.get("bare")));
            ratios.put("ewc_over_naive", paired(roundMed.get("ewc"), roundMed.get("naive")));
            ratios.put("replay_over_naive", paired(roundMed.get("replay"),
                    roundMed.get("naive")));
            ratios.put("ewc_replay_over_naive", paired(roundMed.get("ewc+replay"),
                    roundMed.get("naive")));
            ratios.put("checkpoint_over_copy", root.get("checkpoint").get("ratio_to_copy")
                    .asDouble());
            ratios.put("eval_over_train", root.get("evaluation").get("ratio_to_training")
                    .asDouble());
            ratios.put("fisher_per_sequence_over_train", root.get("fisher").get("per_sequence")
                    .get("ratio_to_training").asDouble());
            ratios.put("fisher_batched_over_train", root.get("fisher").get("batched")
                    .get("ratio_to_training").asDouble());
            ratios.put("rss_growth", root.get("memory").path("growth").asDouble(Double.NaN));
            ratios.put("mfu_naive", mfu.get("naive").asDouble());
            ratios.put("export_over_copy", root.get("export").get("ratio_to_copy").asDouble());
            if (bf16) {
                ratios.put("bf16_step_speedup", paired(roundMed.get("bare-fp32"),
                        roundMed.get("bare")));
                ratios.put("bf16_eval_speedup", root.get("precision").get("evaluation")
                        .get("speedup").asDouble());
                ratios.put("bf16_eval_perplexity_difference", root.get("precision")
                        .get("evaluation").get("perplexity_relative_difference").asDouble());
                ratios.put("bf16_matmul_speedup", Stats.ratio(peakFlops, fp32Peak));
            }
            ObjectNode ofMedians = ratios.putObject("step_ratios_of_medians");
            ofMedians.put("naive_over_bare", Stats.ratio(med.get("naive"), med.get("bare")));
            ofMedians.put("ewc_over_naive", ratioOf(med, "ewc"));
            ofMedians.put("replay_over_naive", ratioOf(med, "replay"));
            ofMedians.put("ewc_replay_over_naive", ratioOf(med, "ewc+replay"));
        } finally {
            if (bare != null) {
                bare.close();
            }
            if (bareFp32 != null) {
                bareFp32.close();
            }
            for (ContinualTrainer t : trainers.values()) {
                t.close();
            }
            deleteTree(work);
        }
        BenchFacts.info(this);

        double wall = (System.nanoTime() - wall0) / 1e9;
        long[] jiffies1 = Machine.cpuJiffies();
        double cpu = Machine.processCpuSeconds() - cpu0;
        int cores = Runtime.getRuntime().availableProcessors();
        machine.set("load_average_before", array(load0));
        machine.set("load_average_after", array(Machine.loadAverage()));
        double busy = jiffies0[1] < 0 ? Double.NaN : Stats.ratio(jiffies1[0] - jiffies0[0],
                jiffies1[1] - jiffies0[1]);
        machine.put("machine_busy_fraction", busy);
        machine.put("bench_cpu_fraction", cpu / (wall * cores));
        machine.put("others_cpu_fraction", Math.max(0, busy - cpu / (wall * cores)));
        machine.put("wall_seconds", wall);
        root.put("finished", Instant.now().toString());
        root.set("targets", BenchTargets.of(root, spec));
        return new BenchReport(root);
    }

    /** Median over rounds of {@code a[r] / b[r]}; NaN for a strategy not timed. */
    private static double paired(double[] a, double[] b) {
        if (a == null || b == null) {
            return Double.NaN;
        }
        double[] r = new double[Math.min(a.length, b.length)];
        for (int i = 0; i < r.length; i++) {
            r[i] = Stats.ratio(a[i], b[i]);
        }
        return Stats.median(r);
    }

    private static double ratioOf(Map<String, Double> med, String strategy) {
        return med.containsKey(strategy) ? Stats.ratio(med.get(strategy), med.get("naive"))
                : Double.NaN;
    }

    /**
     * Starts a phase of the memory table: the peak resident memory since the previous phase
     * began is that phase's, and the peak counter is reset for this one.
     *
     * @param name the phase beginning; null after the last
     */
    private void phase(String name) {
        if (memoryPhase != null) {
            ((ObjectNode) root.with("memory_by_phase")).put(memoryPhase,
                    ResidentMemory.peakBytes());
        }
        ResidentMemory.resetPeak();
        memoryPhase = name;
    }

    private RunSetup setup(String strategy) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put(Strategies.STRATEGY.name(), strategy);
        // Steps are compared at equal tokens: replayed windows take their share of the batch.
        v.put(TrainConfig.REPLAY_MODE.name(), "replace");
        v.put(TrainConfig.BATCH_SIZE.name(), spec.batch());
        v.put(TrainConfig.GRAD_ACCUM.name(), spec.gradAccum());
        v.put(TrainConfig.SEQ_LEN.name(), spec.seqLen());
        v.put(EwcPlugin.FISHER_SAMPLES.name(), spec.fisherSamples());
        v.put(TrainConfig.SEED.name(), spec.seed());
        v.put(TrainConfig.DEVICE.name(), spec.device());
        v.put(TrainConfig.PRECISION.name(), precision); // resolved once, for every trainer
        // The domain end the trainers go through is a run's: no drift map, no stage model, a
        // one-window stage evaluation, so that what it costs is the strategies' work and the
        // checkpoint.
        v.put(DriftRecorder.DRIFT.name(), "off");
        v.put(StageExport.STAGES.name(), "none");
        v.put(StageEvaluation.TEST_WINDOWS.name(), 1);
        TrainConfig cfg = TrainConfig.fromValues(v, "bench");
        return RunSetup.create("bench-" + strategy, cfg, spec.model(), spec.tokenizer(),
                spec.domains());
    }

    private static String dirName(String strategy) {
        return strategy.replace('+', '-');
    }

    /** A bare step of the benchmark's batch, warmed up, in the given precision. */
    private BareStep bareStep(Device device, ContinualTrainer naive, int batch, int seq,
            Precision p) {
        BareStep b = new BareStep(spec.model(), device, naive.context().trainTokens(0), batch,
                spec.gradAccum(), seq, naive.config().get(Schedule.LEARNING_RATE),
                naive.config().get(AdamW.WEIGHT_DECAY), p);
        b.time(Math.max(1, spec.warmup()));
        b.clearPhases();
        return b;
    }

    static ArrayNode array(double[] xs) {
        ArrayNode a = Json.MAPPER.createArrayNode();
        for (double x : xs) {
            a.add(x);
        }
        return a;
    }

    private static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(x);
            }
        } catch (IOException e) {
            // a temporary folder left behind is not worth failing the benchmark for
        }
    }
}
