package dev.retain.classic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.classic.data.Scenario;
import dev.retain.classic.data.SplitMnist;
import dev.retain.classic.data.Task;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The replay memory keeps its budget and splits it equally among tasks or classes, or keeps one
 * uniform sample of the whole stream.
 */
class ReplayMemoryTest {

    @Test
    void classBalancedSharesAndTotal() {
        check(true);
    }

    @Test
    void perTaskSharesAndTotal() {
        check(false);
    }

    /**
     * One reservoir over the stream (Algorithm R): after tasks 1..t it holds the budget, each
     * example once, and every example offered so far had the same chance to be kept, so task
     * i's share is its size over the stream's size. With 1,000 of n kept, a share's standard
     * deviation is below sqrt(1000 * 0.25) = 16 examples; we allow 5 of them.
     */
    @Test
    void streamKeepsAUniformSampleOfEverythingOffered() {
        ClassicConfig c = ClassicFixtures.tiny("split-mnist", Scenario.CLASS);
        SplitMnist b = SplitMnist.of(ClassicFixtures.mnist());
        try (NDManager root = NDManager.newBaseManager(Device.cpu(), "PyTorch");
                Mlp mlp = new Mlp(root, 784, c.hidden(), 10, 1)) {
            ClassicContext ctx = new ClassicContext(c, Strategy.REPLAY, b, mlp, root, 1);
            ReplayMemory mem = new ReplayMemory(ctx, 1000, ReplayMemory.Grouping.STREAM, 16);
            int offered = 0;
            int[] sizes = new int[5];
            for (int t = 0; t < 5; t++) {
                Task task = b.task(t);
                sizes[t] = task.train().size();
                offered += sizes[t];
                mem.afterTask(task);
                Map<String, List<ExampleRef>> groups = mem.groups();
                assertEquals(Set.of("stream"), groups.keySet());
                List<ExampleRef> kept = groups.get("stream");
                assertEquals(Math.min(1000, offered), kept.size());
                assertEquals(kept.size(), new HashSet<>(kept).size(), "stored twice");
                int[] perTask = new int[5];
                for (ExampleRef r : kept) {
                    perTask[r.task()]++;
                }
                for (int i = 0; i <= t; i++) {
                    double expected = 1000.0 * sizes[i] / offered;
                    assertEquals(expected, perTask[i], 80, "task " + i + " after task " + t);
                }
            }
        }
    }

    private static void check(boolean classBalanced) {
        ClassicConfig c = ClassicFixtures.tiny("split-mnist", Scenario.CLASS);
        SplitMnist b = SplitMnist.of(ClassicFixtures.mnist());
        try (NDManager root = NDManager.newBaseManager(Device.cpu(), "PyTorch");
                Mlp mlp = new Mlp(root, 784, c.hidden(), 10, 1)) {
            ClassicContext ctx = new ClassicContext(c, Strategy.REPLAY, b, mlp, root, 1);
            ReplayMemory mem = new ReplayMemory(ctx, 1000, classBalanced
                    ? ReplayMemory.Grouping.CLASS : ReplayMemory.Grouping.TASK, 16);
            for (int t = 0; t < 5; t++) {
                Task task = b.task(t);
                mem.afterTask(task);
                Map<String, List<ExampleRef>> groups = mem.groups();
                int g = classBalanced ? 2 * (t + 1) : t + 1;
                assertEquals(g, groups.size(), groups.keySet().toString());
                int share = 1000 / g;
                int total = 0;
                for (var e : groups.entrySet()) {
                    // every share is full (each digit has more than 500 training images)
                    assertEquals(share, e.getValue().size(), e.getKey());
                    Set<ExampleRef> distinct = new HashSet<>(e.getValue());
                    assertEquals(e.getValue().size(), distinct.size(), "stored twice");
                    for (ExampleRef r : e.getValue()) {
                        Task of = b.task(r.task());
                        assertTrue(e.getKey().startsWith("task " + of.name()), e.getKey());
                        if (classBalanced) {
                            assertTrue(e.getKey().endsWith("digit "
                                    + of.train().digit(r.example())), e.getKey());
                        }
                    }
                    total += e.getValue().size();
                }
                assertEquals(g * share, total);
                assertEquals(total, mem.size());
                assertTrue(total <= 1000);
            }
            assertEquals(1000, mem.size());
            // a step gets exactly replay-batch examples from the memory, labelled for class-IL
            ctx.seenTasks = 5;
            Minibatch fresh = ctx.minibatch(List.of(new ExampleRef(4, 0), new ExampleRef(4, 1)));
            Minibatch step = mem.extend(fresh, new Random(1));
            assertEquals(18, step.size());
            assertEquals(16, ctx.replayExamples);
            for (int i = 2; i < 18; i++) {
                Task of = b.task(step.tasks()[i]);
                assertTrue(of.hasDigit(step.labels()[i]), "class-IL label is the digit");
            }
        }
    }
}
