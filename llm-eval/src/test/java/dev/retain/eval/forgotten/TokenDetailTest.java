package dev.retain.eval.forgotten;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;
import dev.retain.core.model.CausalLm;
import dev.retain.core.text.GptTokenizer;
import dev.retain.core.text.TokenFile;
import dev.retain.core.util.RepoPaths;
import dev.retain.eval.EvalResult;
import dev.retain.eval.Evaluator;

import ai.djl.Device;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The .tokd format, the evaluator's detail against its own score, and token texts. */
class TokenDetailTest {

    @TempDir Path tmp;

    @Test
    void aDetailFileReadsBackAsWrittenAndCostsEightBytesAToken() throws IOException {
        DomainDetail[] d = DomainComparisonTest.example();
        TokenDetail t = new TokenDetail("m.pt", "test", 8, 257, List.of(d[0],
                new DomainDetail("<script>&\u202e", 5, 99, 1.5, d[1].windows())));
        Path f = tmp.resolve("s.tokd");
        t.write(f);
        TokenDetail back = TokenDetail.read(f);
        assertEquals(t, back);
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(1, s.count(), "no temporary file left");
        }
        // header 4+2+2+4+4 + "m.pt" 2+4 + "test" 2+4 + 4; per domain name, 8+8+8+4; per window
        // 16 + 2 bytes per token + 6 per scored token; CRC 4
        long windows = 2 * (16 + 2 * 8 + 6 * 7 + 16 + 2 * 7 + 6 * 6);
        long expect = 16 + 6 + 6 + 4 + (2 + 1 + 28) + (2 + "<script>&\u202e".getBytes(
                java.nio.charset.StandardCharsets.UTF_8).length + 28) + windows + 4;
        assertEquals(expect, Files.size(f));
        // a vocabulary over 65,536 ids takes int32 ids
        TokenDetail wide = new TokenDetail("m", "test", 8, 100_000, List.of(d[0]));
        wide.write(f);
        assertEquals(wide, TokenDetail.read(f));
    }

    @Test
    void aDamagedOrForeignFileIsAUserError() throws IOException {
        DomainDetail[] d = DomainComparisonTest.example();
        Path f = tmp.resolve("s.tokd");
        new TokenDetail("m", "test", 8, 257, List.of(d[0])).write(f);
        byte[] b = Files.readAllBytes(f);
        b[60] ^= 1;
        Files.write(f, b);
        UserError e = assertThrows(UserError.class, () -> TokenDetail.read(f));
        assertTrue(e.getMessage().contains("damaged"), e.getMessage());
        Files.writeString(f, "not a detail file at all");
        e = assertThrows(UserError.class, () -> TokenDetail.read(f));
        assertTrue(e.getMessage().contains("not a token-detail file"), e.getMessage());
    }

    @Test
    void theEvaluatorsDetailSumsToItsOwnScore() throws IOException {
        Path model = RepoPaths.resolve("datasets", "models", "small-gcide", "model.pt");
        int[] ids = new int[700];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (i * 7919 + 13) % 2000;
        }
        Path tok = tmp.resolve("ids.tok");
        TokenFile.write(tok, ids, 50257, "x", "x");
        TokenFile tokens = TokenFile.openOrNull(tok);
        try (CausalLm lm = CausalLm.load(model, Device.cpu(), 0)) {
            for (int stride : new int[] {0, 40}) {
                DetailCollector all = new DetailCollector(1000);
                EvalResult r = Evaluator.evaluate(lm, tokens, "d", "test",
                        new Evaluator.Options(64, stride, 0, 3, false), all.sink());
                all.finish(r);
                DomainDetail dd = all.detail("m", "test", 64, lm.vocabSize()).domains().get(0);
                assertTrue(dd.complete());
                assertEquals(r.predicted(), dd.predictedKept());
                assertEquals(r.nllSum(), dd.windows().stream().mapToDouble(WindowDetail::nllSum)
                        .sum(), 1e-9 * r.nllSum());
                long right = 0;
                for (WindowDetail w : dd.windows()) {
                    for (int i = 0; i < w.scored(); i++) {
                        right += w.right(i) ? 1 : 0;
                        assertEquals(ids[(int) w.start() + w.firstScored() + i], w.target(i));
                    }
                }
                assertEquals(r.correct(), right);
                // a bound keeps the first windows only, and the score is unchanged
                DetailCollector two = new DetailCollector(2);
                EvalResult r2 = Evaluator.evaluate(lm, tokens, "d", "test",
                        new Evaluator.Options(64, stride, 0, 3, false), two.sink());
                two.finish(r2);
                assertEquals(r.nllSum(), r2.nllSum(), 0);
                DomainDetail first = two.detail("m", "test", 64, 1).domains().get(0);
                assertEquals(2, first.windows().size());
                assertEquals(dd.windows().subList(0, 2), first.windows());
            }
        }
    }

    @Test
    void tokenTextCutsTextAtTokenBoundariesEvenInsideACharacter() {
        Path file = RepoPaths.resolve("datasets", "tokenizers", "gpt2", "tokenizer.json");
        TokenText text = TokenText.load(file);
        assertEquals(50256, text.eos());
        assertEquals(" the", text.token(262));
        assertEquals("\n", text.token(198));
        String s = "naïve 🙂 שלום & <script>\u202e";
        try (GptTokenizer tok = GptTokenizer.load(file)) {
            int[] ids = java.util.Arrays.stream(tok.encode(s)).mapToInt(x -> (int) x).toArray();
            String[] pieces = text.pieces(ids);
            assertEquals(s, String.join("", pieces));
            // the emoji's four bytes are split over tokens: alone, a piece is not UTF-8
            assertTrue(java.util.Arrays.stream(ids).anyMatch(id -> text.token(id)
                    .contains("\uFFFD")));
        }
        assertArrayEquals(new String[] {"#5", "#7"}, TokenText.idsOnly(-1).pieces(
                new int[] {5, 7}));
    }
}
