package dev.retain.classic;

import dev.retain.classic.data.Benchmark;
import dev.retain.classic.data.Scenario;

/**
 * Where a task's labels live in the model's output row, and which columns may compete in a
 * softmax, for each scenario of van de Ven &amp; Tolias (2019).
 *
 * <p>All heads are side by side in one output layer of {@code heads * width} units: in task-IL
 * task {@code t}'s head is columns {@code [t*width, (t+1)*width)} and only those compete (so the
 * other heads get no gradient: exactly a separate head per task); in domain-IL there is one head
 * of {@code width} columns; in class-IL one head over all classes of which only the <i>active</i>
 * ones compete: the classes of the tasks seen so far, as in both published setups (van de Ven
 * &amp; Tolias' {@code active_classes}, Hsu et al.'s "valid output dimension").
 *
 * @param scenario the scenario
 * @param width columns per head
 * @param heads number of heads
 * @param classesPerTask classes each task adds (class-IL: how far the active window grows)
 */
public record OutputLayout(Scenario scenario, int width, int heads, int classesPerTask) {

    /**
     * @param benchmark the task sequence
     * @param scenario the scenario
     * @return its layout
     */
    public static OutputLayout of(Benchmark benchmark, Scenario scenario) {
        return new OutputLayout(scenario, benchmark.numClasses(scenario),
                benchmark.numHeads(scenario), benchmark.task(0).classesPerTask());
    }

    /** @return output units in all */
    public int total() {
        return width * heads;
    }

    /**
     * @param task the example's task
     * @param label its label in the scenario's label space ({@link
     *     dev.retain.classic.data.Task#label})
     * @return its column in the output row
     */
    public int column(int task, int label) {
        return scenario == Scenario.TASK ? task * width + label : label;
    }

    /**
     * @param task the example's task
     * @return the first column that competes for it
     */
    public int from(int task) {
        return scenario == Scenario.TASK ? task * width : 0;
    }

    /**
     * @param task the example's task
     * @param seenTasks how many tasks have been (or are being) trained; class-IL only
     * @return one past the last column that competes for it
     */
    public int to(int task, int seenTasks) {
        switch (scenario) {
            case TASK:
                return (task + 1) * width;
            case DOMAIN:
                return width;
            default:
                return Math.min(width, Math.max(1, seenTasks) * classesPerTask);
        }
    }
}
