package dev.retain.bench;

import dev.retain.core.Engines;
import dev.retain.core.model.Precision;
import dev.retain.core.text.Split;
import dev.retain.core.util.ResidentMemory;
import dev.retain.core.util.Json;
import dev.retain.train.ContinualTrainer;
import dev.retain.train.RunSetup;
import dev.retain.train.TrainConfig;
import dev.retain.train.lifecycle.DriftRecorder;
import dev.retain.train.lifecycle.StageEvaluation;
import dev.retain.train.lifecycle.StageExport;
import dev.retain.train.lm.EwcPlugin;
import dev.retain.train.lm.Strategies;
import dev.retain.train.optim.AdamW;
import dev.retain.train.optim.Schedule;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.djl.Device;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Runs the measurements of a {@link BenchSpec} in one process, after warm-up, and reports medians
 * and the ratios the targets are stated in.
 *
 * <p>Order: the matrix-multiply peak; the four trainers (naive, ewc, replay, ewc+replay, each a
 * {@link ContinualTrainer} in a temporary run folder) learn a few steps of the first domain and
 * do their domain-end work ({@link ContinualTrainer#endDomain()}: EWC's Fisher, replay's
 * buffer), then the bare step and the trainers take turns in rounds on the second domain ({@link
 * StepRounds}); then {@code repeats} times: a few naive steps, a per-sequence and a batched Fisher
 * estimate and an evaluation, each ratio taken against the naive steps of its own repeat; then
 * the resident memory over {@code rss-steps} ewc+replay steps; the export and the checkpoint;
 * then the {@code retain info} launch. Each phase is a method here or a class of its own.
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
        MachineLoad load = MachineLoad.now();
        Device device = Engines.device(spec.device());
        Engines.threads(spec.threads());
        ObjectNode machine = Machine.describe();
        machine.put("device", device.toString());
        root.set("machine", machine);
        Ceiling ceiling = matmulPeaks(device);

        Path work = Files.createTempDirectory("retain-bench");
        Map<String, ContinualTrainer> trainers = new LinkedHashMap<>();
        try {
            measure(device, ceiling, work, trainers);
        } finally {
            for (ContinualTrainer t : trainers.values()) {
                t.close();
            }
            deleteTree(work);
        }
        BenchFacts.info(this);

        load.finish(machine);
        root.put("finished", Instant.now().toString());
        root.set("targets", BenchTargets.of(root, spec));
        return new BenchReport(root);
    }

    /**
     * The matrix-multiply peaks MFU is measured against.
     *
     * @param fp32 float32's
     * @param steps that of the precision the steps compute in
     */
    private record Ceiling(double fp32, double steps) {}

    /**
     * Resolves the precision the trainers and the bare step compute in, then measures the
     * matrix-multiply peak: in float32, and in bfloat16 too (in turn) when the steps compute in
     * it.
     */
    private Ceiling matmulPeaks(Device device) {
        boolean bf16 = PrecisionSideBySide.resolve(this, device).precision() == Precision.BF16;
        precision = bf16 ? "bf16" : "fp32";
        say("matmul peak: %d x %d x %d, %d timed%s", spec.matmulSize(), spec.matmulSize(),
                spec.matmulSize(), spec.matmulRepeats(), bf16 ? ", in fp32 and bf16 in turn" : "");
        ObjectNode peaks = Peaks.measure(spec.matmulSize(), spec.matmulRepeats(), device, bf16);
        root.set("matmul", peaks.get("fp32"));
        if (bf16) {
            root.set("matmul_bf16", peaks.get("bf16"));
        }
        // MFU is against the peak of the precision the steps compute in.
        return new Ceiling(peaks.get("fp32").get("flops_per_second_median").asDouble(),
                peaks.get(precision).get("flops_per_second_median").asDouble());
    }

    /**
     * Every phase that needs the trainers, in order, each in its own row of the memory table: the
     * trainers load, the step rounds, the Fisher and evaluation phases, the memory probe, export,
     * checkpoint; then the MFU and the ratios.
     *
     * @param trainers filled here with the trainers by strategy; the caller closes what is left
     */
    private void measure(Device device, Ceiling ceiling, Path work,
            Map<String, ContinualTrainer> trainers) throws IOException {
        phase("load");
        for (String s : spec.strategies()) {
            trainers.put(s, ContinualTrainer.start(setup(s), work.resolve(dirName(s)), false));
        }
        ContinualTrainer naive = trainers.get("naive");
        int seq = naive.context().seqLen();
        int windows = spec.windowsPerStep();
        ModelShape shape = ModelShape.of(naive.context().model());
        root.set("model", BenchFacts.model(spec, shape));
        root.set("settings", BenchFacts.settings(spec, seq, precision));
        double tokensPerStep = (double) windows * seq;
        double flopsPerStep = shape.trainFlopsPerStep(windows, seq);

        StepRounds rounds = stepRounds(device, trainers, seq, flopsPerStep, tokensPerStep,
                ceiling);
        String last = spec.strategies().get(spec.strategies().size() - 1);
        for (String s : List.copyOf(trainers.keySet())) {
            if (!s.equals("naive") && !s.equals(last)) {
                trainers.remove(s).close();
            }
        }

        phase("fisher and evaluation");
        new PairedPhases(this).run(naive, spec.batch(), windows, seq, tokensPerStep);
        if (bf16()) {
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

        ObjectNode mfu = mfu(shape.trainFlopsPerToken(seq), flopsPerStep, ceiling, rounds);
        ratios(mfu, ceiling, rounds);
    }

    /**
     * Domain 0: every trainer's warm-up and domain-end work; then the bare step (and the float32
     * one beside a bf16 one) and the trainers take turns in rounds on domain 1. The bare steps
     * are closed at the end.
     *
     * @return the rounds, reported
     */
    private StepRounds stepRounds(Device device, Map<String, ContinualTrainer> trainers, int seq,
            double flopsPerStep, double tokensPerStep, Ceiling ceiling) {
        ContinualTrainer naive = trainers.get("naive");
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
        BareStep bare = bareStep(device, naive, seq, Precision.of(precision));
        BareStep bareFp32 = null;
        try {
            if (bf16()) { // side by side: the float32 bare step takes its turn in every round
                bareFp32 = bareStep(device, naive, seq, Precision.FP32);
            }
            StepRounds rounds = new StepRounds(this, bare, bareFp32, trainers);
            phase("steps");
            rounds.run();
            rounds.report(domainEnd, flopsPerStep, tokensPerStep, ceiling.fp32(),
                    ceiling.steps());
            return rounds;
        } finally {
            bare.close();
            if (bareFp32 != null) {
                bareFp32.close();
            }
        }
    }

    /** The report's {@code mfu}: the FLOPs of a step, the ceiling, naive's and bare's MFU. */
    private ObjectNode mfu(double flopsPerToken, double flopsPerStep, Ceiling ceiling,
            StepRounds rounds) {
        ObjectNode mfu = root.putObject("mfu");
        mfu.put("flops_per_token", flopsPerToken);
        mfu.put("flops_per_step", flopsPerStep);
        mfu.put("peak_flops_per_second", ceiling.steps());
        mfu.put("peak_precision", precision);
        mfu.put("naive", Stats.ratio(flopsPerStep / rounds.median("naive"), ceiling.steps()));
        mfu.put("bare", Stats.ratio(flopsPerStep / rounds.median("bare"), ceiling.steps()));
        return mfu;
    }

    /**
     * The report's {@code ratios}, the ones the targets are stated in: the step ratios, paired
     * within rounds (the median over rounds of the ratio within a round, which cancels load that
     * changes between rounds; the ratio of the medians is kept beside), and those of the other
     * phases, taken from their sections.
     */
    private void ratios(ObjectNode mfu, Ceiling ceiling, StepRounds rounds) {
        ObjectNode ratios = root.putObject("ratios");
        ratios.put("naive_over_bare", rounds.paired("naive", "bare"));
        ratios.put("ewc_over_naive", rounds.paired("ewc", "naive"));
        ratios.put("replay_over_naive", rounds.paired("replay", "naive"));
        ratios.put("ewc_replay_over_naive", rounds.paired("ewc+replay", "naive"));
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
        if (bf16()) {
            ratios.put("bf16_step_speedup", rounds.paired("bare-fp32", "bare"));
            ratios.put("bf16_eval_speedup", root.get("precision").get("evaluation")
                    .get("speedup").asDouble());
            ratios.put("bf16_eval_perplexity_difference", root.get("precision")
                    .get("evaluation").get("perplexity_relative_difference").asDouble());
            ratios.put("bf16_matmul_speedup", Stats.ratio(ceiling.steps(), ceiling.fp32()));
        }
        ObjectNode ofMedians = ratios.putObject("step_ratios_of_medians");
        ofMedians.put("naive_over_bare", Stats.ratio(rounds.median("naive"),
                rounds.median("bare")));
        ofMedians.put("ewc_over_naive", rounds.overNaiveOfMedians("ewc"));
        ofMedians.put("replay_over_naive", rounds.overNaiveOfMedians("replay"));
        ofMedians.put("ewc_replay_over_naive", rounds.overNaiveOfMedians("ewc+replay"));
    }

    /** @return the precision the trainers and the bare step compute in: fp32 or bf16 */
    String precision() {
        return precision;
    }

    private boolean bf16() {
        return precision.equals("bf16");
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
    private BareStep bareStep(Device device, ContinualTrainer naive, int seq, Precision p) {
        BareStep b = new BareStep(spec.model(), device, naive.context().trainTokens(0),
                spec.batch(), spec.gradAccum(), seq, naive.config().get(Schedule.LEARNING_RATE),
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
