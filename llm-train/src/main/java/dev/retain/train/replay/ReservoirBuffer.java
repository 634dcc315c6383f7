package dev.retain.train.replay;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A replay memory with a budget, shared equally by groups (domains, tasks, or classes for a
 * class-balanced buffer), each group filled by reservoir sampling (Vitter's Algorithm R) so that
 * every item a group offered has the same chance to be kept, however long its stream was.
 *
 * <p>Budget and shares are counted in units of cost (tokens for language-model windows, samples for
 * classifiers): with G groups each group may hold {@code floor(budget / G / cost)} items. When a
 * new group arrives, the earlier groups shrink to the new share by dropping items at random (which
 * keeps each a uniform sample). The article this project grew from kept per-task FIFO queues of
 * whole device batches instead.
 *
 * @param <T> the item type (must be serializable to JSON by the caller)
 */
public final class ReservoirBuffer<T> {

    private final long budget;
    private final long cost;
    private final Map<String, List<T>> items = new LinkedHashMap<>();
    private final Map<String, Long> seen = new LinkedHashMap<>();

    /**
     * Creates an empty buffer.
     *
     * @param budget total budget in cost units (tokens, samples)
     * @param cost cost of one item in the same units
     */
    public ReservoirBuffer(long budget, long cost) {
        if (budget <= 0 || cost <= 0) {
            throw new IllegalArgumentException("budget and cost must be positive");
        }
        this.budget = budget;
        this.cost = cost;
    }

    /** @return items one group may hold with the current number of groups */
    public int capacityPerGroup() {
        int g = Math.max(1, items.size());
        return (int) Math.min(Integer.MAX_VALUE, budget / g / cost);
    }

    /**
     * Adds a group (no-op when it exists) and shrinks the others to the new equal share.
     *
     * @param group the group's name
     * @param rng the random source for which items are dropped
     */
    public void addGroup(String group, Random rng) {
        if (items.containsKey(group)) {
            return;
        }
        items.put(group, new ArrayList<>());
        seen.put(group, 0L);
        int cap = capacityPerGroup();
        for (List<T> l : items.values()) {
            while (l.size() > cap) {
                // Removing a uniformly chosen item keeps the rest a uniform sample of the stream.
                int i = rng.nextInt(l.size());
                l.set(i, l.get(l.size() - 1));
                l.remove(l.size() - 1);
            }
        }
    }

    /**
     * Offers one item of a group's stream (Algorithm R).
     *
     * @param group the group (added first if new)
     * @param item the item
     * @param rng the random source
     */
    public void offer(String group, T item, Random rng) {
        addGroup(group, rng);
        List<T> l = items.get(group);
        long n = seen.merge(group, 1L, Long::sum);
        int cap = capacityPerGroup();
        if (l.size() < cap) {
            l.add(item);
        } else if (cap > 0) {
            long j = (long) (rng.nextDouble() * n);
            if (j < cap) {
                l.set((int) j, item);
            }
        }
    }

    /**
     * Draws items uniformly (with replacement) from every group except one.
     *
     * @param count how many
     * @param exclude group not to draw from (the one being learned), may be null
     * @param rng the random source
     * @return the items; empty when no other group has any
     */
    public List<T> sample(int count, String exclude, Random rng) {
        List<T> pool = new ArrayList<>();
        for (var e : items.entrySet()) {
            if (!e.getKey().equals(exclude)) {
                pool.addAll(e.getValue());
            }
        }
        if (pool.isEmpty()) {
            return List.of();
        }
        List<T> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(pool.get(rng.nextInt(pool.size())));
        }
        return out;
    }

    /** @return group to its items (read-only views) */
    public Map<String, List<T>> groups() {
        Map<String, List<T>> m = new LinkedHashMap<>();
        items.forEach((k, v) -> m.put(k, Collections.unmodifiableList(v)));
        return m;
    }

    /** @return how many items each group has offered so far */
    public Map<String, Long> seenCounts() {
        return Collections.unmodifiableMap(seen);
    }

    /** @return items held in all */
    public int size() {
        return items.values().stream().mapToInt(List::size).sum();
    }

    /** @return cost units held in all (tokens or samples) */
    public long usedBudget() {
        return size() * cost;
    }

    /** @return the budget */
    public long budget() {
        return budget;
    }

    /** @return cost of one item */
    public long cost() {
        return cost;
    }

    /**
     * Restores a group exactly (from a checkpoint).
     *
     * @param group the group
     * @param groupItems its items, in order
     * @param seenCount how many it had offered
     */
    public void restoreGroup(String group, List<T> groupItems, long seenCount) {
        items.put(group, new ArrayList<>(groupItems));
        seen.put(group, seenCount);
    }
}
