package dev.retain.bench;

import dev.retain.core.model.CausalLm;
import dev.retain.core.model.Precision;
import dev.retain.core.model.PrecisionChoice;
import dev.retain.core.text.TokenFile;
import dev.retain.core.util.Json;
import dev.retain.eval.EvalResult;
import dev.retain.eval.Evaluator;

import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.djl.Device;

/**
 * The benchmark's precision: resolving {@code --precision} once for every trainer (so that {@code
 * auto} measures once), and, when it is bf16, the evaluation in both precisions side by side: two
 * instances of the model (the same weights), one float32 and one bfloat16, evaluate the same
 * windows in turn, {@code repeats} times; the times' medians and both perplexities.
 */
final class PrecisionSideBySide {

    private PrecisionSideBySide() {}

    /**
     * Resolves the benchmark's precision on its model.
     *
     * @param bench the benchmark
     * @param device where
     * @return the choice (recorded in the report's {@code precision})
     */
    static PrecisionChoice resolve(Bench bench, Device device) {
        BenchSpec spec = bench.spec();
        try (CausalLm lm = CausalLm.load(spec.model(), device, 0)) {
            int seq = spec.seqLen() > 0 ? Math.min(spec.seqLen(), lm.context()) : lm.context();
            PrecisionChoice c = PrecisionChoice.apply(spec.precision(), lm, seq,
                    PrecisionChoice.Work.TRAINING);
            bench.say("%s", c.describe());
            ObjectNode o = bench.root().putObject("precision");
            o.put("setting", c.setting());
            o.put("used", c.precision().label());
            o.put("why", c.why());
            return c;
        }
    }

    /**
     * Evaluates the same windows in float32 and bfloat16, in turn.
     *
     * @param bench the benchmark
     * @param device where
     * @param tokens the split to evaluate
     * @param domain its name
     * @param seq tokens per window
     */
    static void evaluation(Bench bench, Device device, TokenFile tokens, String domain, int seq) {
        BenchSpec spec = bench.spec();
        int reps = spec.repeats();
        bench.say("precision: %d evaluations of %d windows each in fp32 and bf16, in turn", reps,
                spec.evalWindows());
        double[] f32 = new double[reps];
        double[] b16 = new double[reps];
        EvalResult r32 = null;
        EvalResult r16 = null;
        Evaluator.Options opt = new Evaluator.Options(seq, 0, spec.evalWindows(), 0, false);
        try (CausalLm fp32 = CausalLm.load(spec.model(), device, 0);
                CausalLm bf16 = CausalLm.load(spec.model(), device, 0)) {
            bf16.usePrecision(Precision.BF16);
            Evaluator.Options warm = new Evaluator.Options(seq, 0, 2, 0, false);
            Evaluator.evaluate(fp32, tokens, domain, "test", warm);
            Evaluator.evaluate(bf16, tokens, domain, "test", warm);
            for (int r = 0; r < reps; r++) {
                r32 = Evaluator.evaluate(fp32, tokens, domain, "test", opt);
                r16 = Evaluator.evaluate(bf16, tokens, domain, "test", opt);
                f32[r] = r32.seconds();
                b16[r] = r16.seconds();
            }
        }
        long fed = r32.predicted() + r32.windows();
        ObjectNode o = Json.object();
        o.put("domain", domain);
        o.put("windows", r32.windows());
        o.put("tokens", fed);
        o.set("fp32", side(f32, fed, r32));
        o.set("bf16", side(b16, fed, r16));
        o.put("speedup", Stats.median(f32) / Stats.median(b16));
        o.put("perplexity_relative_difference", Math.abs(r16.perplexity() - r32.perplexity())
                / r32.perplexity());
        bench.root().with("precision").set("evaluation", o);
    }

    private static ObjectNode side(double[] secs, long tokens, EvalResult r) {
        ObjectNode o = Json.object();
        o.set("seconds", Bench.array(secs));
        o.put("seconds_median", Stats.median(secs));
        o.put("tokens_per_second", tokens / Stats.median(secs));
        o.put("perplexity", r.perplexity());
        o.put("token_accuracy", r.tokenAccuracy());
        return o;
    }
}
