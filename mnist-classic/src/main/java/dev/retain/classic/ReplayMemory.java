package dev.retain.classic;

import dev.retain.classic.data.Task;
import dev.retain.train.replay.ReservoirBuffer;

import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A replay memory of at most {@code replay-samples} training examples, on the shared {@link
 * ReservoirBuffer}: the budget is split equally among groups, each filled by reservoir sampling.
 * Groups are the tasks ({@code reservoir}: a task-balanced reservoir), the classes, i.e. each
 * task's digits ({@code class-balanced}), or one group for the whole stream ({@code stream}: a
 * single reservoir over every example offered, Vitter's Algorithm R as in Riemer et al. 2019 and
 * Chaudhry et al. 2019, so each task's share is proportional to its number of examples). Only
 * references are stored ({@link ExampleRef}); pixels are read when a batch is built.
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
    private final Grouping grouping;
    private final int perStep;

    /** How the budget is shared: the {@code --replay-mode} values. */
    enum Grouping {
        /** Equal shares per task, each a reservoir sample ({@code reservoir}). */
        TASK("reservoir"),
        /** Equal shares per class of each task ({@code class-balanced}). */
        CLASS("class-balanced"),
        /** One reservoir over the whole stream ({@code stream}). */
        STREAM("stream");

        private final String flag;

        Grouping(String flag) {
            this.flag = flag;
        }

        /** @return the {@code --replay-mode} value */
        String flag() {
            return flag;
        }

        /**
         * @param flag a {@code --replay-mode} value
         * @return its grouping, or null when there is none
         */
        static Grouping of(String flag) {
            for (Grouping g : values()) {
                if (g.flag.equals(flag)) {
                    return g;
                }
            }
            return null;
        }
    }

    /**
     * @param ctx the run
     * @param budget examples the memory may hold
     * @param grouping how the budget is shared
     * @param perStep examples appended to each step
     */
    ReplayMemory(ClassicContext ctx, int budget, Grouping grouping, int perStep) {
        this.ctx = ctx;
        this.buffer = new ReservoirBuffer<>(budget, 1);
        this.grouping = grouping;
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
        String group = switch (grouping) {
            case CLASS -> "task " + task.name() + " digit " + task.train().digit(example);
            case TASK -> "task " + task.name();
            case STREAM -> "stream";
        };
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
