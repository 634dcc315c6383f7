package dev.retain.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.retain.core.UserError;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The bench settings: the same defaults as before the key table, and the older spellings. */
class BenchSpecTest {

    static final Path M = Path.of("m.pt");
    static final List<Path> DOMAINS = List.of(Path.of("a"), Path.of("b"));

    @Test
    void defaultsAreUnchanged() {
        BenchSpec s = BenchSpec.of(M, M, DOMAINS, Map.of(), List.of(), false);
        assertEquals(List.of(8, 0, 20, 20, 3, 16, 32, 3, 2048, 5, 2000, 3, 0), List.of(s.batch(),
                s.seqLen(), s.steps(), s.rounds(), s.warmup(), s.fisherSamples(),
                s.evalWindows(), s.repeats(), s.matmulSize(), s.matmulRepeats(), s.rssSteps(),
                s.infoRuns(), s.threads()));
        assertEquals("auto", s.device());
        assertEquals(1234L, s.seed());
    }

    @Test
    void batchAndSeqAreBatchSizeAndSeqLen() {
        BenchSpec older = BenchSpec.of(M, M, DOMAINS, BenchSpec.TABLE.parseTexts(Map.of(
                "batch", "2", "seq", "16")), List.of(), false);
        BenchSpec newer = BenchSpec.of(M, M, DOMAINS, BenchSpec.TABLE.parseTexts(Map.of(
                "batch-size", "2", "seq-len", "16")), List.of(), false);
        assertEquals(newer, older);
        assertEquals(List.of(2, 16), List.of(older.batch(), older.seqLen()));
        assertEquals("--seq-len 1 must be at least 2", assertThrows(UserError.class,
                () -> BenchSpec.TABLE.parseTexts(Map.of("seq", "1"))).getMessage());
    }
}
