package dev.retain.classic.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

class SplitMnistTest {

    static Mnist mnist;
    static SplitMnist split;

    @BeforeAll
    static void load() {
        mnist = Mnist.loadDefault();
        split = SplitMnist.of(mnist);
    }

    @Test
    void fiveTasksOfTwoDigits() {
        assertEquals(5, split.numTasks());
        assertEquals(784, split.inputSize());
        String[] names = {"0/1", "2/3", "4/5", "6/7", "8/9"};
        int trainTotal = 0;
        int testTotal = 0;
        for (Task t : split.tasks()) {
            assertEquals(names[t.id()], t.name());
            assertArrayEquals(new int[] {2 * t.id(), 2 * t.id() + 1}, t.digits());
            for (Examples ex : new Examples[] {t.train(), t.test()}) {
                Set<Integer> seen = new HashSet<>();
                for (int d : ex.digits()) {
                    seen.add(d);
                }
                assertEquals(Set.of(2 * t.id(), 2 * t.id() + 1), seen);
            }
            int a = 2 * t.id();
            assertEquals(IdxTest.TRAIN_PER_DIGIT[a] + IdxTest.TRAIN_PER_DIGIT[a + 1],
                    t.train().size());
            assertEquals(IdxTest.TEST_PER_DIGIT[a] + IdxTest.TEST_PER_DIGIT[a + 1],
                    t.test().size());
            trainTotal += t.train().size();
            testTotal += t.test().size();
            // no transform: the task's image is the split's image
            int row = t.train().row(3);
            assertArrayEquals(mnist.train().image(row), t.train().image(3));
        }
        assertEquals(8000, trainTotal);
        assertEquals(2000, testTotal);
    }

    @Test
    void labelsPerScenario() {
        Task t = split.task(3);   // digits 6, 7
        assertEquals(0, t.label(Scenario.TASK, 6));
        assertEquals(1, t.label(Scenario.TASK, 7));
        assertEquals(0, t.label(Scenario.DOMAIN, 6));
        assertEquals(1, t.label(Scenario.DOMAIN, 7));
        assertEquals(6, t.label(Scenario.CLASS, 6));
        assertEquals(7, t.label(Scenario.CLASS, 7));
        assertThrows(IllegalArgumentException.class, () -> t.label(Scenario.CLASS, 5));

        assertEquals(2, t.numClasses(Scenario.TASK));
        assertEquals(2, t.numClasses(Scenario.DOMAIN));
        assertEquals(10, t.numClasses(Scenario.CLASS));
        assertEquals(3, t.head(Scenario.TASK));
        assertEquals(0, t.head(Scenario.DOMAIN));
        assertEquals(0, t.head(Scenario.CLASS));
        assertEquals(5, split.numHeads(Scenario.TASK));
        assertEquals(1, split.numHeads(Scenario.CLASS));
        assertArrayEquals(new int[] {6, 7}, t.classes(Scenario.CLASS));

        for (Task task : split.tasks()) {
            int[] digits = task.test().digits();
            int[] dom = task.labels(Scenario.DOMAIN, task.test());
            int[] cls = task.labels(Scenario.CLASS, task.test());
            int[] tsk = task.labels(Scenario.TASK, task.test());
            for (int k = 0; k < digits.length; k++) {
                assertEquals(digits[k] % 2, dom[k]);
                assertEquals(digits[k] % 2, tsk[k]);
                assertEquals(digits[k], cls[k]);
            }
        }
    }

    @Test
    void batchesCoverTheTaskOnceWithScenarioLabels() {
        Task t = split.task(1);
        int n = 0;
        Set<Integer> seen = new HashSet<>();
        for (TaskBatch b : t.batches(Scenario.CLASS, 64, 7)) {
            assertEquals(1, b.task());
            assertEquals(0, b.head());
            assertEquals(784, b.inputSize());
            assertTrue(b.size() <= 64);
            for (int i = 0; i < b.size(); i++) {
                assertTrue(seen.add(b.examples()[i]));
                assertEquals(t.train().digit(b.examples()[i]), b.labels()[i]);
                assertEquals(t.train().image(b.examples()[i])[400], b.pixels()[i * 784 + 400]);
            }
            n += b.size();
        }
        assertEquals(t.train().size(), n);

        int batches = 0;
        int examples = 0;
        for (TaskBatch b : split.stream(Scenario.TASK, 10, 1)) {
            assertTrue(b.labels()[0] == 0 || b.labels()[0] == 1);
            assertEquals(b.task(), b.head());
            batches++;
            examples += b.size();
        }
        assertEquals(8000, examples);
        assertTrue(batches >= 800);
    }

    @Test
    void scenarioNamesParse() {
        assertEquals(Scenario.TASK, Scenario.parse("task", "--scenario"));
        assertEquals(Scenario.DOMAIN, Scenario.parse("Domain-IL", "--scenario"));
        assertEquals(Scenario.CLASS, Scenario.parse("class", "--scenario"));
        UserError e = assertThrows(UserError.class, () -> Scenario.parse("tasks", "--scenario"));
        assertEquals("--scenario: unknown scenario 'tasks'; use task, domain or class",
                e.getMessage());
    }
}
