package dev.retain.train.classic;

import dev.retain.train.classic.data.Task;
import dev.retain.train.replay.ReservoirBuffer;

import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A replay memory of at most {@code replay-samples} training examples, on the shared {@link
 * ReservoirBuffer}: the budget is split equally among groups, each filled by reservoir sampling.
 * Groups are the tasks ({@code reservoir}) or the classes, i.e. each task's digits ({@code
 * class-balanced}). Only references are stored ({@link ExampleRef}); pixels are read when a batch
 * is built.
 *
 * <p>For {@code replay} the examples of a task are offered when it is finished, so the memory
 * holds only earlier tasks while a task trains (Hsu et al.'s "naive rehearsal"); each step then
 * appends {@code replay-batch} examples drawn uniformly from the memory to the new ones and the
 * loss is the mean over all of them. The online learners (MER, MAML) offer each example right
 * after they have trained on it, as Riemer et al.'s reservoir does.
 */
final class ReplayMemory implements ClassicPlugin {

    private final ClassicContext ctx;
    private final ReservoirBuffer<ExampleRef> buffer;
    private final boolean classBalanced;
    private final int perStep;

    /**
     * @param ctx the run
     * @param budget examples the memory may hold
     * @param classBalanced equal shares per class rather than per task
     * @param perStep examples appended to each step
     */
    ReplayMemory(ClassicContext ctx, int budget, boolean classBalanced, int perStep) {
        this.ctx = ctx;
        this.buffer = new ReservoirBuffer<>(budget, 1);
        this.classBalanced = classBalanced;
        this.perStep = perStep;
    }

    /**
     * Offers one training example.
     *
     * @param task its task
     * @param example its position in the task's training set
     * @param rng the random source of the reservoir
     */
    void offer(Task task, int example, Random rng) {
        String group = classBalanced
                ? "task " + task.name() + " digit " + task.train().digit(example)
                : "task " + task.name();
        buffer.offer(group, new ExampleRef(task.id(), example), rng);
    }

    /**
     * @param count how many
     * @param rng the random source
     * @return examples drawn uniformly (with replacement) from the whole memory; empty when it
     *     is empty
     */
    List<ExampleRef> sample(int count, Random rng) {
        return buffer.sample(count, null, rng);
    }

    /** @return group name to its stored examples */
    Map<String, List<ExampleRef>> groups() {
        return buffer.groups();
    }

    /** @return examples held */
    int size() {
        return buffer.size();
    }

    @Override
    public Minibatch extend(Minibatch batch, Random rng) {
        List<ExampleRef> refs = sample(perStep, rng);
        if (refs.isEmpty()) {
            return batch;
        }
        ctx.replayExamples += refs.size();
        return batch.concat(ctx.minibatch(refs));
    }

    @Override
    public void afterTask(Task task) {
        Random rng = ctx.rng("memory", task.id());
        for (int k : task.train().shuffledOrder(rng.nextLong())) {
            offer(task, k, rng);
        }
    }
}
