package dev.retain.train.classic;

import dev.retain.train.classic.data.Mnist;
import dev.retain.train.classic.data.Scenario;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

class ScratchPerfTest {

    static String env(String k, String d) {
        String v = System.getenv(k.toUpperCase());
        return v == null ? d : v;
    }

    @Test
    void experiment() throws Exception {
        String bench = env("xb", "split-mnist");
        String[] strategies = env("xs", "naive").split(",");
        String[] scenarios = env("xc", "task").split(",");
        int seeds = Integer.parseInt(env("xn", "1"));
        Mnist mnist = Mnist.loadDefault();
        for (String sc : scenarios) {
            for (String st : strategies) {
                ClassicConfig.Builder b = ClassicConfig.builder(bench).scenario(Scenario.parse(sc, "x")).seeds(seeds);
                if (env("xe", null) != null) b.epochs(Integer.parseInt(env("xe", null)));
                if (env("xl", null) != null) b.ewcLambda(Double.parseDouble(env("xl", null)));
                if (env("xlr", null) != null) b.learningRate(Double.parseDouble(env("xlr", null)));
                if (env("xmlr", null) != null) b.merLr(Double.parseDouble(env("xmlr", null)));
                if (env("xmb", null) != null) b.merBeta(Double.parseDouble(env("xmb", null)));
                if (env("xms", null) != null) b.merSteps(Integer.parseInt(env("xms", null)));
                if (env("xmc", null) != null) b.merChunks(Integer.parseInt(env("xmc", null)));
                if (env("xrb", null) != null) b.replayBatch(Integer.parseInt(env("xrb", null)));
                if (env("xsb", null) != null) b.streamBatch(Integer.parseInt(env("xsb", null)));
                if (env("xfs", null) != null) b.fisherSamples(Integer.parseInt(env("xfs", null)));
                if (env("xfm", null) != null) b.fisherMode(env("xfm", null));
                if (env("xrm", null) != null) b.replayMode(env("xrm", null));
                if (env("xil", null) != null) b.mamlInnerLr(Double.parseDouble(env("xil", null)));
                if (env("xbs", null) != null) b.batchSize(Integer.parseInt(env("xbs", null)));
                ClassicConfig c = b.build();
                ClassicRun.Summary s = ClassicRun.run(c, Strategy.parse(st, "x"), mnist,
                        Path.of("/tmp/classic-x", bench, sc, st), l -> { if ((env("xv", null) != null)) System.out.println(l); });
                var m = s.metrics();
                System.out.printf(Locale.ROOT, "RESULT %s %s %-10s acc %.2f±%.2f forg %.2f bwt %.2f fwt %.2f  %.1fs  final %s%n", bench, sc, st,
                        100 * m.get("average_accuracy").mean(), 100 * m.get("average_accuracy").std(),
                        100 * m.get("average_forgetting").mean(), 100 * m.get("backward_transfer").mean(),
                        100 * m.get("forward_transfer").mean(), s.wallSeconds(),
                        Arrays.toString(Arrays.stream(s.mean()[s.mean().length - 1]).map(v -> Math.round(v * 1000) / 10.0).toArray()));
            }
        }
    }
}
