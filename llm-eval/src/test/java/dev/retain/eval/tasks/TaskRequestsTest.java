package dev.retain.eval.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.text.GptTokenizer;
import dev.retain.core.util.RepoPaths;
import dev.retain.eval.tasks.TaskRequests.Request;
import dev.retain.eval.tasks.TaskScorer.Scored;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

/**
 * The harness's request rules worked out by hand: the trailing space, the empty context, left
 * truncation, rolling windows, a tie, acc_norm's character count and few-shot prefixes.
 */
class TaskRequestsTest {

    /** One id per character: a-z are 1-26, ' ' is 27, anything else 28; end-of-text is 0. */
    static final TextEncoder CHARS = new TextEncoder() {
        @Override
        public long[] encode(String text) {
            return text.chars().mapToLong(c -> c == ' ' ? 27 : c >= 'a' && c <= 'z' ? c - 'a' + 1
                    : 28).toArray();
        }

        @Override
        public int eosId() {
            return 0;
        }
    };

    private static final double LOG_HALF = Math.log(0.5);

    @Test
    void trailingSpaceOfTheContextMovesIntoTheContinuation() {
        // GPT-2: "The cat  sat" = The(464) " cat"(3797) " "(220) " sat"(3332). The context
        // "The cat " loses its space: "The cat" = [464, 3797]; the continuation "  sat" is the
        // whole's tokens after those, [220, 3332]. (Kept in the context, the space would have
        // been its token 220 and the continuation [3332] alone.)
        try (GptTokenizer tok = GptTokenizer.load(
                RepoPaths.resolve("datasets/tokenizers/gpt2/tokenizer.json"))) {
            long[][] p = TaskRequests.encodePair(TextEncoder.of(tok), "The cat ", " sat");
            assertArrayEquals(new long[] {464, 3797}, p[0]);
            assertArrayEquals(new long[] {220, 3332}, p[1]);
        }
    }

    @Test
    void continuationTokensAreTheWholesAfterTheContexts() {
        // Characters: context "ab" = [1, 2], whole "ab c" = [1, 2, 27, 3] -> [27, 3]. Two spaces
        // and a tab at the end of the context all move: "ab \t " + " c" -> "ab", " \t  c".
        long[][] p = TaskRequests.encodePair(CHARS, "ab", " c");
        assertArrayEquals(new long[] {1, 2}, p[0]);
        assertArrayEquals(new long[] {27, 3}, p[1]);
        p = TaskRequests.encodePair(CHARS, "ab \t ", " c");
        assertArrayEquals(new long[] {1, 2}, p[0]);
        assertArrayEquals(new long[] {27, 28, 27, 27, 3}, p[1]);
        // U+00A0 is white space to Python's rstrip (not to Java's isWhitespace): it moves too
        p = TaskRequests.encodePair(CHARS, "ab\u00a0", "c");
        assertArrayEquals(new long[] {28, 3}, p[1]);
    }

    @Test
    void emptyContextIsEndOfTextAlone() {
        long[][] p = TaskRequests.encodePair(CHARS, "", " cd");
        assertArrayEquals(new long[] {0}, p[0]);
        assertArrayEquals(new long[] {27, 3, 4}, p[1]);
        // GPT-2: the continuation starting with <|endoftext|> gives it up as the context
        try (GptTokenizer tok = GptTokenizer.load(
                RepoPaths.resolve("datasets/tokenizers/gpt2/tokenizer.json"))) {
            p = TaskRequests.encodePair(TextEncoder.of(tok), "", "<|endoftext|> sat");
            assertArrayEquals(new long[] {50256}, p[0]);
            assertArrayEquals(new long[] {3332}, p[1]);
        }
        // scored: the model sees [0] and predicts 27, 3, 4 from it
        try (FakeModel m = new FakeModel(32, 8, true)) {
            Scored s = score(m, List.of(new Request(0, 0, new long[] {0},
                    new long[] {1, 2, 3}))).get(0);
            assertArrayEquals(new long[] {0, 1, 2}, m.fed.get(0));
            assertEquals(3 * LOG_HALF, s.ll(), 1e-6);
            assertTrue(s.greedy());
        }
    }

    @Test
    void inputsAreLeftTruncatedToTheContextPlusOneThenTheLastDropped() {
        // context 1..10, continuation 11 12 13, model context 8: the 13 tokens keep their last
        // 9 (5..13) and drop the last: the model sees 5..12; positions 5, 6, 7 (tokens 10, 11,
        // 12) predict 11, 12, 13, each the successor: ll = 3 log 1/2, greedy.
        Request r = new Request(0, 0, new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
                new long[] {11, 12, 13});
        assertArrayEquals(new long[] {5, 6, 7, 8, 9, 10, 11, 12}, r.input(8));
        try (FakeModel m = new FakeModel(32, 8, true)) {
            Scored s = score(m, List.of(r)).get(0);
            assertArrayEquals(new long[] {5, 6, 7, 8, 9, 10, 11, 12}, m.fed.get(0));
            assertEquals(3 * LOG_HALF, s.ll(), 1e-6);
            assertTrue(s.greedy());
        }
        // without truncation (context 16) the input is the 12 tokens 1..12
        assertArrayEquals(new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, r.input(16));
    }

    @Test
    void aContinuationTokenThatIsNotTheArgmaxIsNotGreedy() {
        // 3 follows 2 (p 1/2), then 9 follows 3 (not its successor: p 1/(2*31))
        try (FakeModel m = new FakeModel(32, 8, true)) {
            Scored s = score(m, List.of(new Request(0, 0, new long[] {1, 2},
                    new long[] {3, 9}))).get(0);
            assertEquals(LOG_HALF + Math.log(0.5 / 31), s.ll(), 1e-6);
            assertFalse(s.greedy());
        }
    }

    @Test
    void rollingWindowsCoverEveryTokenOnceWithAnEndOfTextPrefix() {
        // 10 tokens, context 4: [EOT] -> t0..t3; then t3 -> t4..t7; then (t4 t5 t6) -> t8 t9:
        // the last window keeps a full context (get_rolling_token_windows, made disjoint).
        long[] t = {10, 11, 12, 13, 14, 15, 16, 17, 18, 19};
        List<long[][]> w = TaskRequests.rollingWindows(t, 0, 4);
        assertEquals(3, w.size());
        assertArrayEquals(new long[] {0}, w.get(0)[0]);
        assertArrayEquals(new long[] {10, 11, 12, 13}, w.get(0)[1]);
        assertArrayEquals(new long[] {13}, w.get(1)[0]);
        assertArrayEquals(new long[] {14, 15, 16, 17}, w.get(1)[1]);
        assertArrayEquals(new long[] {15, 16, 17}, w.get(2)[0]);
        assertArrayEquals(new long[] {18, 19}, w.get(2)[1]);
        // fed: [0 10 11 12], [13 14 15 16], [15 16 17 18]
        assertArrayEquals(new long[] {15, 16, 17, 18}, new Request(0, 2, w.get(2)[0],
                w.get(2)[1]).input(4));
        assertEquals(List.of(), TaskRequests.rollingWindows(new long[0], 0, 4));
    }

    @Test
    void tiesGoToTheFirstChoiceAndAccNormDividesByCharacters() throws Exception {
        // A uniform model: every token costs log 1/32. Choices " x", " y", " zz", " \uD835\uDD38":
        // 2, 2, 3 and 3 tokens (the last is one character but two UTF-16 units, two tokens
        // here). acc: x and y tie at -2 log 32, the first (0) wins. acc_norm divides by the
        // choice's characters: x -2L/1, y -2L/1, zz -3L/2, the math letter -3L/1, so zz (2) wins.
        Path f = java.nio.file.Files.createTempFile("tie", ".jsonl");
        java.nio.file.Files.writeString(f, "{\"context\": \"ab\", \"choices\": [\"x\", \"y\", \"zz\","
                + " \"\\ud835\\udd38\"], \"gold\": 1}\n{\"context\": \"ab\", \"choices\": [\"x\","
                + " \"y\", \"zz\", \"\\ud835\\udd38\"], \"gold\": 2}\n");
        try (FakeModel m = new FakeModel(32, 16, false)) {
            TaskSuite suite = TaskSuite.read(List.of(f), List.of(TaskFormat.AUTO),
                    TaskSuite.Options.defaults());
            TaskResult r = suite.prepare(CHARS, 16).score(m).get(0);
            double l = Math.log(32);
            assertArrayEquals(new double[] {-2 * l, -2 * l, -3 * l, -3 * l}, r.lls()[0], 1e-5);
            assertEquals(0.0, r.metrics().get(TaskResult.ACC)); // pred 0, gold 1 then 2
            assertEquals(0.5, r.metrics().get(TaskResult.ACC_NORM)); // pred_norm 2 both times
            // stderr of [0, 1]: sample std 0.7071 / sqrt(2) = 0.5
            assertEquals(0.5, r.stderr().get(TaskResult.ACC_NORM), 1e-12);
            assertEquals(0.0, r.stderr().get(TaskResult.ACC), 0.0);
        } finally {
            java.nio.file.Files.delete(f);
        }
    }

    @Test
    void fewShotPrefixesAreDrawnAsThePythonSamplerDrawsThem() throws Exception {
        // CPython 3.11: r = random.Random(1234); [r.sample(range(3), 2) for _ in range(3)]
        // = [[1, 0], [0, 2], [2, 0]] (one generator for the task, in example order). With k = 1
        // each example keeps the first draw that is not itself: 1, 0, 0.
        Path f = java.nio.file.Files.createTempFile("shots", ".jsonl");
        java.nio.file.Files.writeString(f, "{\"context\": \"a\", \"continuation\": \" b\"}\n"
                + "{\"context\": \"c\", \"continuation\": \" d\"}\n"
                + "{\"context\": \"e\", \"continuation\": \" f\"}\n");
        // a shot is context + " " + continuation + "\n\n", then the example's context
        String[] contexts = {"c  d\n\na", "a  b\n\nc", "a  b\n\ne"};
        try {
            Task t = Task.read(f, TaskFormat.AUTO);
            List<Request> rs = TaskRequests.build(t, CHARS, 64, 1, 1234, 0);
            for (int d = 0; d < 3; d++) {
                assertArrayEquals(CHARS.encode(contexts[d]), rs.get(d).context(), "example " + d);
            }
        } finally {
            java.nio.file.Files.delete(f);
        }
    }

    private static List<Scored> score(LogitModel m, List<Request> rs) {
        return List.of(TaskScorer.score(m, rs, 0, "t", false).scores());
    }
}
