package dev.retain.bench;

import dev.retain.core.Engines;
import dev.retain.core.util.Json;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.djl.pytorch.jni.JniUtils;

import java.io.IOException;

/** The facts a {@link Bench} report starts with (model, settings) and the launch timing. */
final class BenchFacts {

    private BenchFacts() {}

    /** @return the report's {@code model} */
    static ObjectNode model(BenchSpec spec, ModelShape s) {
        ObjectNode m = Json.object();
        m.put("path", spec.model().toString());
        m.put("parameters", s.parameters());
        m.put("n_embd", s.nEmbd());
        m.put("n_layer", s.nLayer());
        m.put("n_head", s.nHead());
        m.put("context", s.context());
        m.put("vocab_size", s.vocab());
        return m;
    }

    /** @return the report's {@code settings} */
    static ObjectNode settings(BenchSpec spec, int seq, String precision) {
        ObjectNode s = Json.object();
        s.put("batch", spec.batch());
        s.put("seq_len", seq);
        s.put("grad_accum", spec.gradAccum());
        s.put("tokens_per_step", spec.windowsPerStep() * seq);
        s.put("strategies", String.join(",", spec.strategies()));
        s.put("steps", spec.steps());
        s.put("rounds", spec.rounds());
        s.put("warmup", spec.warmup());
        s.put("fisher_samples", spec.fisherSamples());
        s.put("eval_windows", spec.evalWindows());
        s.put("repeats", spec.repeats());
        s.put("rss_steps", spec.rssSteps());
        ArrayNode d = s.putArray("domains");
        spec.domains().forEach(p -> d.add(p.getFileName().toString()));
        s.put("device", spec.device());
        s.put("precision", precision);
        s.put("threads", JniUtils.getNumThreads());
        s.put("seed", spec.seed());
        return s;
    }

    /** Times the {@code retain info} launches into the report's {@code info}. */
    static void info(Bench bench) {
        BenchSpec spec = bench.spec();
        ObjectNode root = bench.root();
        if (spec.infoCommand().isEmpty() || spec.infoRuns() == 0) {
            root.putNull("info");
            return;
        }
        bench.say("timing %d runs of: %s", spec.infoRuns(), String.join(" ", spec.infoCommand()));
        ObjectNode o = root.putObject("info");
        ArrayNode c = o.putArray("command");
        spec.infoCommand().forEach(c::add);
        o.put("runs", spec.infoRuns());
        try {
            double[] secs = LaunchTimer.time(spec.infoCommand(), spec.infoRuns());
            o.set("seconds", Bench.array(secs));
            o.put("seconds_median", Stats.median(secs));
        } catch (IOException e) {
            o.put("error", Engines.firstLine(e));
            o.putNull("seconds_median");
        }
    }
}
