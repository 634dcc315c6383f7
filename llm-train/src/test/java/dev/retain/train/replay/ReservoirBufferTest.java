package dev.retain.train.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.train.replay.ReservoirBuffer;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;

/** The replay buffer keeps its token budget and gives every earlier domain an equal share. */
class ReservoirBufferTest {

    @Test
    void budgetAndEqualShares() {
        // Budget 1,000 tokens, windows of 64 tokens: 15 windows in all.
        ReservoirBuffer<Long> b = new ReservoirBuffer<>(1000, 64);
        Random rng = new Random(1);
        for (long i = 0; i < 500; i++) {
            b.offer("a", i, rng);
        }
        assertEquals(15, b.size());
        assertTrue(b.usedBudget() <= 1000);
        for (long i = 0; i < 500; i++) {
            b.offer("b", 1000 + i, rng);
        }
        // Two domains: floor(1000 / 2 / 64) = 7 windows each.
        Map<String, List<Long>> g = b.groups();
        assertEquals(7, g.get("a").size());
        assertEquals(7, g.get("b").size());
        for (long i = 0; i < 500; i++) {
            b.offer("c", 2000 + i, rng);
        }
        // Three: floor(1000 / 3 / 64) = 5 each, 960 tokens <= 1,000.
        g = b.groups();
        for (String k : List.of("a", "b", "c")) {
            assertEquals(5, g.get(k).size(), k);
        }
        assertEquals(15 * 64, b.usedBudget() + 0 * 64 + 0, "shares: 3 x 5 windows of 64");
        assertTrue(g.get("a").stream().allMatch(x -> x < 500));
        assertTrue(g.get("b").stream().allMatch(x -> x >= 1000 && x < 1500));
    }

    @Test
    void reservoirIsUniformOverTheStream() {
        // Keep 10 of 100 items, 20,000 times: each item should be kept about 10% of the time.
        int[] kept = new int[100];
        Random rng = new Random(7);
        for (int trial = 0; trial < 20000; trial++) {
            ReservoirBuffer<Integer> b = new ReservoirBuffer<>(10, 1);
            for (int i = 0; i < 100; i++) {
                b.offer("x", i, rng);
            }
            b.groups().get("x").forEach(i -> kept[i]++);
        }
        for (int i = 0; i < 100; i++) {
            // Binomial(20000, 0.1): mean 2000, sd 42; 5 sd either side.
            assertTrue(Math.abs(kept[i] - 2000) < 212, "item " + i + " kept " + kept[i]);
        }
    }

    @Test
    void sampleNeverDrawsFromTheExcludedGroup() {
        ReservoirBuffer<String> b = new ReservoirBuffer<>(100, 1);
        Random rng = new Random(3);
        b.offer("old", "o", rng);
        b.offer("new", "n", rng);
        assertTrue(b.sample(50, "new", rng).stream().allMatch("o"::equals));
        assertEquals(List.of(), b.sample(5, "old", new Random(1)).stream()
                .filter("o"::equals).toList());
    }
}
