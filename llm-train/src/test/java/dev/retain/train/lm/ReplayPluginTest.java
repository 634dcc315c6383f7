package dev.retain.train.lm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.model.CausalLm;
import dev.retain.core.model.NamedParameter;
import dev.retain.core.text.Split;
import dev.retain.core.text.TokenFile;
import dev.retain.eval.EvalResult;
import dev.retain.eval.results.ResultsRecorder;
import dev.retain.train.plugin.StepResult;
import dev.retain.train.TrainConfig;
import dev.retain.train.plugin.Phase;
import dev.retain.train.plugin.TrainContext;
import dev.retain.train.plugin.TrainControl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Replay on its own: what it remembers, what it hands back, and that a restored plugin draws
 * exactly what the saved one would have.
 */
class ReplayPluginTest {

    private static final int SEQ = 4;

    @TempDir Path tmp;

    /** A run of two or three domains whose token at position i of domain d is 1000 d + i. */
    final class Ctx implements TrainContext {
        final List<TokenFile> tokens = new ArrayList<>();
        final List<String> names = List.of("a", "b", "c");
        int stage;
        Random rng = new Random(7);
        int batch = 8;
        int accum = 1;
        TokenFile general;
        long step;

        Ctx() throws IOException {
            for (int d = 0; d < names.size(); d++) {
                int[] ids = new int[400];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = 1000 * d + i;
                }
                Path f = tmp.resolve(names.get(d) + ".tok");
                TokenFile.write(f, ids, 50257, "src", "tok");
                tokens.add(TokenFile.openOrNull(f));
            }
        }

        @Override
        public int seqLen() {
            return SEQ;
        }

        @Override
        public int stage() {
            return stage;
        }

        @Override
        public List<String> domains() {
            return names;
        }

        @Override
        public TokenFile tokens(Split split, int index) {
            if (split != Split.TRAIN) {
                throw new AssertionError("replay reads train splits only");
            }
            return tokens.get(index);
        }

        @Override
        public Random rng() {
            return rng;
        }

        @Override
        public CausalLm model() {
            throw new AssertionError("replay does not touch the model");
        }

        @Override
        public List<NamedParameter> parameters() {
            throw new AssertionError("replay does not touch the parameters");
        }

        @Override
        public int batchSize() {
            return batch;
        }

        @Override
        public int gradAccum() {
            return accum;
        }

        @Override
        public long seed() {
            throw new AssertionError("replay draws from the run's random state only");
        }

        @Override
        public Path baseModel() {
            throw new AssertionError("replay does not load the model");
        }

        @Override
        public Path tokenizerFile() {
            throw new AssertionError("replay does not read the tokenizer");
        }

        @Override
        public boolean exportsStage() {
            throw new AssertionError("replay writes nothing beside the run");
        }

        @Override
        public int stepInStage() {
            return 0;
        }

        @Override
        public long globalStep() {
            return step;
        }

        @Override
        public TokenFile generalTokens() {
            return general;
        }

        @Override
        public Path runDir() {
            return tmp;
        }

        @Override
        public void addTokenPasses(long tokens) {
            throw new AssertionError("replay adds no compute of its own");
        }

        @Override
        public void addSeconds(Phase phase, double seconds) {
            throw new AssertionError("replay reports no extra phase");
        }

        @Override
        public TrainControl control() {
            return new TrainControl();
        }

        @Override
        public ResultsRecorder results() {
            throw new AssertionError("replay records no results");
        }

        @Override
        public List<EvalResult> evaluate(Split split, long maxWindows) {
            throw new AssertionError("replay evaluates nothing");
        }
    }

    private static StepResult stepWith(long... starts) {
        return new StepResult(1, 1, Double.NaN, 0, starts.length * SEQ, 0, starts, 1e-3, 1,
                0.1);
    }

    /** Learns domain k, offering windows that start at 0, 4, 8, ... (n of them). */
    private static void learn(ReplayPlugin p, Ctx ctx, int k, int n) {
        ctx.stage = k;
        p.beforeDomain(ctx);
        for (int i = 0; i < n; i++) {
            p.afterStep(ctx, stepWith(SEQ * i));
        }
    }

    /** Replay's settings with this budget. */
    static dev.retain.train.config.Settings budget(long tokens) {
        return TrainConfig.fromValues(java.util.Map.of("replay-tokens", tokens), "test")
                .settings();
    }

    @Test
    void replayedWindowsAreAShareOfTheStepSpreadOverItsMicroBatches() throws IOException {
        // {batch, grad-accum, ratio in quarters} -> replayed windows of each micro-batch
        Object[][] cases = {
            {2, 1, 1, new int[] {1}}, // round(0.5) = 1, as before accumulation counted
            {8, 1, 1, new int[] {2}},
            {1, 4, 1, new int[] {0, 0, 0, 1}}, // one window in four: the last micro-batch
            {2, 2, 1, new int[] {0, 1}}, // round(1.0) = 1 for the step
            {8, 3, 1, new int[] {2, 2, 2}},
            {1, 4, 2, new int[] {0, 1, 0, 1}}, // 2 of 4: floor(2(m+1)/4) - floor(2m/4)
        };
        Ctx ctx = new Ctx();
        for (Object[] c : cases) {
            ReplayPlugin p = new ReplayPlugin(TrainConfig.fromValues(java.util.Map.of(
                    "replay-ratio", (int) c[2] / 4.0), "test").settings(), SEQ);
            ctx.batch = (int) c[0];
            ctx.accum = (int) c[1];
            int[] want = (int[]) c[3];
            int[] got = new int[want.length];
            int sum = 0;
            for (int m = 0; m < want.length; m++) {
                got[m] = p.replayRows(ctx, m);
                sum += got[m];
            }
            assertEquals(ReplayPlugin.rowsPerStep((int) c[2] / 4.0, ctx.batch * ctx.accum), sum,
                    "the micro-batches add up to the step's");
            assertEquals(java.util.Arrays.toString(want), java.util.Arrays.toString(got),
                    java.util.Arrays.toString(c));
        }
    }

    @Test
    void replaysExactWindowsOfEarlierDomainsOnly() throws IOException {
        Ctx ctx = new Ctx();
        ReplayPlugin p = new ReplayPlugin(budget(10 * SEQ), SEQ); // room for 10 windows
        learn(p, ctx, 0, 50);
        ctx.stage = 1;
        p.beforeDomain(ctx);
        assertEquals(3, p.replayWindows(ctx, 3, new long[3 * SEQ], 0),
                "after one domain, three rows can be filled from it");
        learn(p, ctx, 1, 50);
        ctx.stage = 2;
        p.beforeDomain(ctx);
        assertTrue(p.buffer().size() <= 10, "budget of 10 windows: " + p.buffer().size());
        Set<Long> domains = new HashSet<>();
        for (int draw = 0; draw < 50; draw++) {
            long[] dst = new long[5 * SEQ];
            int got = p.replayWindows(ctx, 3, dst, 2 * SEQ);
            assertEquals(3, got);
            for (int r = 0; r < 2 * SEQ; r++) {
                assertEquals(0, dst[r], "rows before the offset are left alone");
            }
            for (int r = 0; r < got; r++) {
                int o = (2 + r) * SEQ;
                long d = dst[o] / 1000;
                long start = dst[o] % 1000;
                domains.add(d);
                assertTrue(d < 2, "never the domain being learned: " + d);
                assertEquals(0, start % SEQ, "a window the domain offered: " + start);
                for (int i = 1; i < SEQ; i++) {
                    assertEquals(dst[o] + i, dst[o + i], "the window's tokens, in order");
                }
            }
        }
        assertEquals(Set.of(0L, 1L), domains, "both earlier domains are replayed");
    }

    @Test
    void aRestoredPluginDrawsWhatTheSavedOneWould() throws IOException {
        Ctx ctx = new Ctx();
        ReplayPlugin p = new ReplayPlugin(budget(8 * SEQ), SEQ);
        learn(p, ctx, 0, 30);
        learn(p, ctx, 1, 30);
        ctx.stage = 2;
        p.beforeDomain(ctx);
        Path dir = tmp.resolve("ckpt");
        java.nio.file.Files.createDirectories(dir);
        p.saveState(dir);
        long seed = 99;
        ReplayPlugin q = new ReplayPlugin(budget(8 * SEQ), SEQ);
        q.loadState(dir, ctx);
        assertEquals(p.buffer().groups(), q.buffer().groups());
        assertEquals(p.buffer().seenCounts(), q.buffer().seenCounts());
        long[] a = new long[4 * SEQ];
        long[] b = new long[4 * SEQ];
        ctx.rng = new Random(seed);
        p.replayWindows(ctx, 4, a, 0);
        ctx.rng = new Random(seed);
        q.replayWindows(ctx, 4, b, 0);
        assertEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(b));
    }

    @Test
    void jointDrawsEqualSharesOfTheEarlierDomainsAndNoneOfTheCurrentOne() throws IOException {
        Ctx ctx = new Ctx();
        ctx.batch = 6;
        JointPlugin joint = new JointPlugin();
        int[] rows = new int[3];
        for (int k = 0; k < 3; k++) {
            ctx.stage = k;
            rows[k] = joint.replayRows(ctx, 0);
        }
        // after domain k the mixture is k+1 equal shares: 6 * k / (k + 1) windows from before
        assertEquals(List.of(0, 3, 4), List.of(rows[0], rows[1], rows[2]));
        ctx.stage = 2;
        int[] counts = new int[3];
        long lowest = Long.MAX_VALUE;
        long highest = 0;
        long[] dst = new long[2 * SEQ];
        for (int i = 0; i < 30000; i++) {
            assertEquals(2, joint.replayWindows(ctx, 2, dst, 0));
            for (int w = 0; w < 2; w++) {
                long first = dst[w * SEQ];
                for (int t = 1; t < SEQ; t++) {
                    assertEquals(first + t, dst[w * SEQ + t], "a whole window of one domain");
                }
                counts[(int) (first / 1000)]++;
                lowest = Math.min(lowest, first % 1000);
                highest = Math.max(highest, first % 1000);
            }
        }
        assertEquals(0, counts[2], "never the domain being learned");
        // 60,000 draws, half each: the binomial standard deviation is 122; 5 of them
        assertEquals(30000, counts[0], 610);
        assertEquals(30000, counts[1], 610);
        assertEquals(0, lowest, "starts from the first token ...");
        assertEquals(400 - SEQ, highest, "... to the last window of the split");
    }

    @Test
    void generalReplayMeetsItsShareOnAverageAndDrawsOnlyFromTheGeneralSource()
            throws IOException {
        Ctx ctx = new Ctx();
        int[] ids = new int[500];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 9000 + i; // the general source's tokens; the domains' are below 3000
        }
        TokenFile.write(tmp.resolve("general.tok"), ids, 50257, "src", "tok");
        ctx.general = TokenFile.openOrNull(tmp.resolve("general.tok"));
        ctx.batch = 8;
        GeneralReplayPlugin g = new GeneralReplayPlugin(TrainConfig.fromValues(java.util.Map.of(
                "general-ratio", 0.05), "test").settings());
        // 8 x 0.05 = 0.4 windows a step: floor(0.4 (g+1)) - floor(0.4 g) = 0,0,1,0,1 repeating
        List<Integer> rows = new ArrayList<>();
        int total = 0;
        for (ctx.step = 0; ctx.step < 1000; ctx.step++) {
            int r = g.replayRows(ctx, 0);
            total += r;
            if (ctx.step < 5) {
                rows.add(r);
            }
            long[] dst = new long[Math.max(1, r) * SEQ];
            ctx.stage = (int) (ctx.step % 3); // from the first domain on, in every domain
            assertEquals(r, g.replayWindows(ctx, r, dst, 0));
            for (int k = 0; k < r * SEQ; k++) {
                assertTrue(dst[k] >= 9000, "only general text: " + dst[k]);
            }
        }
        assertEquals(List.of(0, 0, 1, 0, 1), rows);
        assertEquals(400, total, "exactly 0.4 windows a step over 1,000 steps");
    }

    @Test
    void taskFreeReplaysTheWholeStreamOrTheReservoirAsItWasAtTheLastConsolidation()
            throws IOException {
        // One reservoir over the stream (room for all 60 windows here): with replay-from stream
        // a window of the source being read is drawn too; with consolidated, only the 20 windows
        // of "a" it held when it consolidated, though "b" has been offered since.
        for (String from : List.of("stream", "consolidated")) {
            Ctx ctx = new Ctx();
            ReplayPlugin p = new ReplayPlugin(TrainConfig.fromValues(java.util.Map.of(
                    "replay-tokens", 100L * SEQ, "task-free", true, "replay-from", from),
                    "test").settings(), SEQ);
            learn(p, ctx, 0, 20);
            p.consolidate(ctx, List.of());
            ctx.stage = 1; // the trainer does not call beforeDomain on a task-free strategy
            for (int i = 0; i < 40; i++) {
                p.afterStep(ctx, stepWith(SEQ * i));
            }
            assertEquals(Set.of("stream"), p.buffer().groups().keySet());
            assertEquals(60, p.buffer().size());
            long[] dst = new long[200 * SEQ];
            assertEquals(200, p.replayWindows(ctx, 200, dst, 0));
            Set<Long> sources = new HashSet<>();
            for (int r = 0; r < 200; r++) {
                sources.add(dst[r * SEQ] / 1000); // token 1000 d + i: the source
            }
            assertEquals(from.equals("stream") ? Set.of(0L, 1L) : Set.of(0L), sources, from);
        }
    }

    @Test
    void theHardBufferKeepsTheWindowsOfTheHighestLossStepsAndIsReplayedWithTheReservoir()
            throws IOException {
        // A reservoir of room for 2 windows and a hard buffer of 2: 30 steps of one window each,
        // the step at window 17 with the highest loss (9), the one at window 5 the next (8), the
        // rest 1. The hard buffer holds windows 17 and 5 whatever the reservoir kept, and every
        // draw comes from the 4 (or fewer, where the reservoir holds one of them) remembered.
        Ctx ctx = new Ctx();
        ReplayPlugin p = new ReplayPlugin(TrainConfig.fromValues(java.util.Map.of(
                "replay-tokens", 2L * SEQ, "task-free", true, "replay-hard", 2), "test")
                .settings(), SEQ);
        p.beforeDomain(ctx);
        for (int i = 0; i < 30; i++) {
            double loss = i == 17 ? 9 : i == 5 ? 8 : 1;
            p.afterStep(ctx, new StepResult(loss, loss, Double.NaN, 0, SEQ, 0,
                    new long[] {SEQ * i}, 1e-3, 1, 0.1));
        }
        Set<Long> remembered = new HashSet<>();
        p.buffer().groups().get("stream").forEach(it -> remembered.add(it & ((1L << 40) - 1)));
        remembered.add(17L * SEQ);
        remembered.add(5L * SEQ);
        long[] dst = new long[100 * SEQ];
        assertEquals(100, p.replayWindows(ctx, 100, dst, 0));
        Set<Long> drawn = new HashSet<>();
        for (int r = 0; r < 100; r++) {
            drawn.add(dst[r * SEQ]); // domain 0: token i at position i, so the window's start
        }
        assertEquals(remembered, drawn);
        // The hard buffer is state: a restored plugin draws the same windows.
        p.saveState(tmp);
        ReplayPlugin q = new ReplayPlugin(TrainConfig.fromValues(java.util.Map.of(
                "replay-tokens", 2L * SEQ, "task-free", true, "replay-hard", 2), "test")
                .settings(), SEQ);
        q.loadState(tmp, ctx);
        ctx.rng = new Random(11);
        long[] a = new long[10 * SEQ];
        p.replayWindows(ctx, 10, a, 0);
        ctx.rng = new Random(11);
        long[] b = new long[10 * SEQ];
        q.replayWindows(ctx, 10, b, 0);
        assertArrayEquals(a, b);
    }
}
