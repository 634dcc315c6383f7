package dev.retain.train.lm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.retain.core.text.TokenFile;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The order of a domain's training windows: shuffled per epoch, or the split's own. */
class WindowStreamTest {

    @TempDir Path tmp;

    private TokenFile tokens(int n) throws IOException {
        Path f = tmp.resolve("t.tok");
        TokenFile.write(f, new int[n], 50257, "src", "tok");
        return TokenFile.openOrNull(f);
    }

    private static List<Long> take(WindowStream s, int n) {
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(s.next());
        }
        return out;
    }

    @Test
    void inOrderVisitsTheSplitsWindowsInItsOrderEveryEpoch() throws IOException {
        TokenFile t = tokens(4 * 8 + 3); // 4 windows of 8; the 3 left over are never read
        WindowStream s = new WindowStream(t, 8, 1234, true);
        assertEquals(List.of(0L, 8L, 16L, 24L, 0L, 8L, 16L, 24L), take(s, 8));
        assertEquals(1, s.epoch()); // at the end of the second epoch
        assertEquals(4, s.index());
        WindowStream resumed = new WindowStream(t, 8, 1234, true);
        resumed.seek(1, 2);
        assertEquals(List.of(16L, 24L, 0L), take(resumed, 3));
    }

    @Test
    void shuffledIsAPermutationThatChangesWithTheEpoch() throws IOException {
        TokenFile t = tokens(64 * 8);
        WindowStream s = new WindowStream(t, 8, 1234, false);
        List<Long> first = take(s, 64);
        List<Long> second = take(s, 64);
        assertEquals(first.stream().sorted().toList(), second.stream().sorted().toList());
        assertNotEquals(first, second);
        assertNotEquals(first, first.stream().sorted().toList());
    }
}
