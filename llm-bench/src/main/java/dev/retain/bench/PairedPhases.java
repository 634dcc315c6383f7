package dev.retain.bench;

import dev.retain.core.text.Split;
import dev.retain.core.text.TokenFile;
import dev.retain.eval.EvalResult;
import dev.retain.eval.Evaluator;
import dev.retain.train.ContinualTrainer;
import dev.retain.train.lm.LmFisher;

import ai.djl.ndarray.NDManager;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The benchmark's Fisher and evaluation phases, each timed against naive steps of the same
 * repeat.
 */
final class PairedPhases {

    private final Bench bench;
    private final BenchSpec spec;
    private final ObjectNode root;

    PairedPhases(Bench bench) {
        this.bench = bench;
        this.spec = bench.spec();
        this.root = bench.root();
    }

    /**
     * Fisher and evaluation throughput, each against naive steps timed right before it in the
     * same repeat, so that a change of load between repeats cancels out of the ratios.
     */
    void run(ContinualTrainer naive, int batch, int windowsPerStep, int seq,
            double tokensPerStep) {
        TokenFile fisherTokens = naive.context().trainTokens(1);
        TokenFile evalTokens = naive.context().tokens(Split.TEST, 1);
        String evalDomain = naive.context().domains().get(1);
        int naiveSteps = Math.max(2, spec.steps() / spec.rounds());
        int samples = spec.fisherSamples();
        Evaluator.Options evalOpt = new Evaluator.Options(seq, 0, spec.evalWindows(), 0, false);
        Evaluator.Options evalAtBatch = new Evaluator.Options(seq, 0, spec.evalWindows(), batch,
                false);
        // warm-up of each path once, on few items
        fisherSeconds(naive, fisherTokens, Math.min(samples, batch), 1, seq);
        fisherSeconds(naive, fisherTokens, Math.min(samples, batch), batch, seq);
        Evaluator.evaluate(naive.context().model(), evalTokens, evalDomain, "test",
                new Evaluator.Options(seq, 0, 2, 0, false));
        int reps = spec.repeats();
        double[] naiveMed = new double[reps];
        double[] perSeq = new double[reps];
        double[] batched = new double[reps];
        double[] eval = new double[reps];
        double[] evalB = new double[reps];
        double[] perSeqRatio = new double[reps];
        double[] batchedRatio = new double[reps];
        double[] evalRatio = new double[reps];
        double[] evalBRatio = new double[reps];
        long evalTokensFed = 0;
        long evalWindowsDone = 0;
        for (int r = 0; r < reps; r++) {
            bench.say("repeat %d/%d: %d naive steps, Fisher of %d sequences per-sequence and batched,"
                    + " evaluation of %d windows", r + 1, reps, naiveSteps, samples,
                    spec.evalWindows());
            naiveMed[r] = Stats.median(TrainerSteps.time(naive, naiveSteps));
            double trainPerSeq = naiveMed[r] / windowsPerStep;
            perSeq[r] = fisherSeconds(naive, fisherTokens, samples, 1, seq);
            batched[r] = fisherSeconds(naive, fisherTokens, samples, batch, seq);
            perSeqRatio[r] = Stats.ratio(perSeq[r] / samples, trainPerSeq);
            batchedRatio[r] = Stats.ratio(batched[r] / samples, trainPerSeq);
            EvalResult er = Evaluator.evaluate(naive.context().model(), evalTokens, evalDomain, "test",
                    evalOpt);
            EvalResult eb = Evaluator.evaluate(naive.context().model(), evalTokens, evalDomain, "test",
                    evalAtBatch);
            evalTokensFed = er.predicted() + er.windows();
            evalWindowsDone = er.windows();
            eval[r] = er.seconds();
            evalB[r] = eb.seconds();
            double trainTokPerSec = tokensPerStep / naiveMed[r];
            evalRatio[r] = Stats.ratio(evalTokensFed / eval[r], trainTokPerSec);
            evalBRatio[r] = Stats.ratio(evalTokensFed / evalB[r], trainTokPerSec);
        }
        ObjectNode f = root.putObject("fisher");
        f.put("estimator", "empirical");
        f.set("naive_step_seconds", Bench.array(naiveMed));
        ObjectNode ps = f.putObject("per_sequence");
        fisherJson(ps, samples, 1, perSeq, perSeqRatio);
        ObjectNode bt = f.putObject("batched");
        fisherJson(bt, samples, batch, batched, batchedRatio);

        ObjectNode e = root.putObject("evaluation");
        e.put("domain", evalDomain);
        e.put("windows", evalWindowsDone);
        e.put("tokens", evalTokensFed);
        e.put("batch", "evaluator default (logit budget)");
        e.set("seconds", Bench.array(eval));
        e.put("seconds_median", Stats.median(eval));
        e.put("tokens_per_second", evalTokensFed / Stats.median(eval));
        e.put("ratio_to_training", Stats.median(evalRatio));
        ObjectNode ab = e.putObject("at_training_batch");
        ab.put("batch", batch);
        ab.set("seconds", Bench.array(evalB));
        ab.put("seconds_median", Stats.median(evalB));
        ab.put("tokens_per_second", evalTokensFed / Stats.median(evalB));
        ab.put("ratio_to_training", Stats.median(evalBRatio));
        e.set("naive_step_seconds", Bench.array(naiveMed));
    }

    private void fisherJson(ObjectNode o, int samples, int batch, double[] secs,
            double[] ratios) {
        o.put("sequences", samples);
        o.put("batch", batch);
        o.set("seconds", Bench.array(secs));
        o.put("seconds_median", Stats.median(secs));
        o.put("sequences_per_second", samples / Stats.median(secs));
        o.set("ratios", Bench.array(ratios));
        o.put("ratio_to_training", Stats.median(ratios));
    }

    private double fisherSeconds(ContinualTrainer t, TokenFile tokens, int samples, int batch,
            int seq) {
        long t0 = System.nanoTime();
        try (NDManager owner = t.context().model().manager().newSubManager()) {
            LmFisher.estimate(t.context().model(), t.context().parameters(), tokens, new LmFisher.Spec(samples, false,
                    batch, seq, spec.seed()), owner);
        }
        return (System.nanoTime() - t0) / 1e9;
    }
}
