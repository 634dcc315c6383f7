package dev.retain.eval.forgotten;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;
import dev.retain.core.util.RepoPaths;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The comparison of two detail sets on a hand-made example whose every number is worked out
 * below, with micro-untied's byte tokenizer (one token a byte, ids in GPT-2's byte order,
 * {@code <|endoftext|>} = 256).
 *
 * <pre>
 * window 0  x | a    b    ␣    c    d    ␣    e        (x: context)
 *   before    1.0  0.5  3.0  2.5  0.1  3.0  0.3   right: a b d e
 *   after     1.5  2.5  3.0  1.0  0.1  3.0  0.3   right: a c d e
 * window 1  z | b    EOS  a    b    ␣    c
 *   before    0.2  4.0  1.0  1.0  2.0  2.0        right: b b(second)
 *   after     3.2  4.0  2.5  0.0  2.0  2.0        right: b(second)
 * </pre>
 */
class DomainComparisonTest {

    private static final int EOS = 256;

    @TempDir Path tmp;

    static TokenText text() {
        return TokenText.load(RepoPaths.resolve("datasets", "models", "micro-untied",
                "tokenizer.json"));
    }

    /** Byte ids of micro-untied's tokenizer: GPT-2's byte order ('!' = 0, 'a' = 64, ' ' = 220). */
    static int id(char c) {
        return switch (c) {
            case ' ' -> 220;
            case '\u0000' -> EOS;
            default -> c - '!';
        };
    }

    static int[] ids(String s) {
        return s.chars().map(c -> id((char) c)).toArray();
    }

    /** Argmaxes: the token itself where right, else '!' (id 0, never a token here). */
    static int[] tops(int[] ids, int first, String right) {
        int[] out = new int[ids.length - first];
        for (int i = 0; i < out.length; i++) {
            out[i] = right.charAt(i) == 'R' ? ids[first + i] : 0;
        }
        return out;
    }

    static DomainDetail[] example() {
        int[] w0 = ids("xab cd e");
        int[] w1 = ids("zb\u0000ab c");
        DomainDetail before = new DomainDetail("d", 2, 13, 20.6, List.of(
                new WindowDetail(0, 1, w0, new float[] {1.0f, 0.5f, 3.0f, 2.5f, 0.1f, 3.0f, 0.3f},
                        tops(w0, 1, "RRWWRWR")),
                new WindowDetail(8, 1, w1, new float[] {0.2f, 4.0f, 1.0f, 1.0f, 2.0f, 2.0f},
                        tops(w1, 1, "RWWRWW"))));
        DomainDetail after = new DomainDetail("d", 2, 13, 25.1, List.of(
                new WindowDetail(0, 1, w0, new float[] {1.5f, 2.5f, 3.0f, 1.0f, 0.1f, 3.0f, 0.3f},
                        tops(w0, 1, "RWWRRWR")),
                new WindowDetail(8, 1, w1, new float[] {3.2f, 4.0f, 2.5f, 0.0f, 2.0f, 2.0f},
                        tops(w1, 1, "WWWRWW"))));
        return new DomainDetail[] {before, after};
    }

    @Test
    void countsEventsTransitionsTokensWordsAndHistogramAsWorkedOutByHand() {
        DomainDetail[] d = example();
        DomainComparison c = DomainComparison.of(d[0], d[1], text(),
                new CompareSettings(2.0, 3, 12, 3));
        assertEquals(2, c.windows());
        assertEquals(13, c.tokens());
        assertTrue(c.complete());
        assertEquals(4.5 / 13, c.meanChange(), 1e-6);
        // right->right a d e b(2nd); right->wrong b b(1st); wrong->right c; the rest wrong
        assertEquals(List.of(4L, 2L, 1L, 6L), List.of(c.rightRight(), c.forgotten(), c.learned(),
                c.wrongWrong()));
        // low = NLL < 2: window 0 LL a d e, LH b, HL c, HH ␣ ␣; window 1 LH b a, LL b,
        // HH EOS ␣ c (2.0 is not below 2)
        assertEquals(List.of(4L, 3L, 1L, 5L), List.of(c.lowLow(), c.lowHigh(), c.highLow(),
                c.highHigh()));
        assertEquals(1, c.forgottenTokens().size());
        assertEquals("b", c.forgottenTokens().get(0).text());
        assertEquals(2, c.forgottenTokens().get(0).count());
        assertEquals("c", c.learnedTokens().get(0).text());
        // b: +2 +3 -1 over 3; a: +0.5 +1.5 over 2; no other token rose
        assertEquals(2, c.tokensRose().size());
        assertEquals("b", c.tokensRose().get(0).text());
        assertEquals(3, c.tokensRose().get(0).count());
        assertEquals(4.0, c.tokensRose().get(0).sumChange(), 1e-6);
        assertEquals(4.0 / 3, c.tokensRose().get(0).meanChange(), 1e-6);
        assertEquals("a", c.tokensRose().get(1).text());
        assertEquals(2.0, c.tokensRose().get(1).sumChange(), 1e-6);
        // words: "ab" and "cd" of window 0 are cut by its start and nothing ("cd" fell 1.5);
        // window 1's "ab" (after the end of text) rose 1.5 - 1.0; "b" before EOS is cut, "c"
        // touches the end
        assertEquals(1, c.wordsRose().size());
        assertEquals("ab", c.wordsRose().get(0).text());
        assertEquals(0.5, c.wordsRose().get(0).sumChange(), 1e-6);
        long[] h = new long[Histogram.BINS + 2];
        h[11] = 7; // 0
        h[12] = 1; // +0.5
        h[15] = 1; // +2.0
        h[8] = 1; // -1.5
        h[17] = 1; // +3.0
        h[14] = 1; // +1.5
        h[9] = 1; // -1.0
        assertArrayEquals(h, c.histogram().counts());
        assertEquals("[0, 0.5)", Histogram.label(11));
        assertEquals("< -5", Histogram.label(0));
    }

    @Test
    void passagesAreWindowsCutAtTheEndOfADocument() {
        DomainDetail[] d = example();
        DomainComparison c = DomainComparison.of(d[0], d[1], text(),
                new CompareSettings(2.0, 3, 12, 2));
        // window 1 is cut after its end-of-text: "b<EOS>" (context z first) rose (0.2+4 -> 3.2+4)/2 = +1.5,
        // "ab c" (1+1+2+2 -> 2.5+0+2+2)/4 = +0.125; window 0 whole: 10.4/7 -> 11.4/7
        assertEquals(3, c.rose().size());
        assertEquals(1.5, c.rose().get(0).meanChange(), 1e-6);
        assertEquals(1, c.rose().get(0).window());
        assertEquals(List.of("z", "b", "<|endoftext|>"), c.rose().get(0).tokens().stream()
                .map(Passage.Token::text).toList());
        assertEquals(1.0 / 7, c.rose().get(1).meanChange(), 1e-6);
        assertEquals("xab cd e", String.join("", c.rose().get(1).tokens().stream()
                .map(Passage.Token::text).toList()));
        assertTrue(!c.rose().get(1).tokens().get(0).scored(), "x is context");
        assertEquals(0.125, c.rose().get(2).meanChange(), 1e-6);
        assertTrue(c.fell().isEmpty());
        // with at least 3 tokens a document's part, "b<EOS>" is no passage of its own
        DomainComparison c3 = DomainComparison.of(d[0], d[1], text(),
                new CompareSettings(2.0, 3, 12, 3));
        assertEquals(2, c3.rose().size());
        assertEquals(1.0 / 7, c3.rose().get(0).meanChange(), 1e-6);
    }

    @Test
    void tokenLinesHoldEveryTokenAndTheirMeanChangeIsTheChangeOfTheMean() throws IOException {
        DomainDetail[] d = example();
        Path f = tmp.resolve("t.jsonl");
        assertEquals(13, TokenLines.write(f, d[0], d[1], text()));
        List<String> lines = Files.readAllLines(f);
        assertEquals(13, lines.size());
        ObjectMapper m = new ObjectMapper();
        double sum = 0;
        long forgotten = 0;
        for (String l : lines) {
            JsonNode n = m.readTree(l);
            sum += n.get("nll_after").asDouble() - n.get("nll_before").asDouble();
            forgotten += n.get("right_before").asBoolean() && !n.get("right_after").asBoolean()
                    ? 1 : 0;
        }
        assertEquals((25.1 - 20.6) / 13, sum / 13, 1e-6);
        assertEquals(2, forgotten);
        JsonNode eos = m.readTree(lines.get(8));
        assertEquals(1, eos.get("window").asInt());
        assertEquals(8, eos.get("window_start").asLong());
        assertEquals(2, eos.get("position").asInt());
        assertEquals(EOS, eos.get("token_id").asInt());
        assertEquals("<|endoftext|>", eos.get("token").asText());
        assertEquals(4.0, eos.get("nll_before").asDouble(), 0);
    }

    @Test
    void differentWindowsAreRefused() {
        DomainDetail[] d = example();
        WindowDetail w = d[1].windows().get(1);
        DomainDetail other = new DomainDetail("d", 2, 13, 0, List.of(d[1].windows().get(0),
                new WindowDetail(9, 1, w.ids(), w.nll(), w.argmax())));
        UserError e = assertThrows(UserError.class, () -> DomainComparison.of(d[0], other,
                text(), CompareSettings.DEFAULT));
        assertTrue(e.getMessage().contains("window 1 differs"), e.getMessage());
    }
}
