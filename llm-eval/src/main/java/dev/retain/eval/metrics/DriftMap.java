package dev.retain.eval.metrics;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Where the forgetting happened: the weight drift of each tensor in each stage, summed per group
 * (a layer such as {@code h.0}) into a layer-by-stage map.
 *
 * <p>Each input value is {@code sum_i F_i (theta_k,i - theta*_{k-1},i)^2} over one tensor's
 * elements, with {@code F} the Fisher diagonal ({@code "fisher"} weighting) or 1 ({@code "none"}),
 * as the trainer records it; a group's value is the plain sum over its tensors.
 *
 * @param weighting how the drift was weighted ({@code fisher} or {@code none})
 * @param groups the groups in first-seen order (the model's parameter order)
 * @param stages the stages that have drift rows, ascending
 * @param byGroup {@code byGroup[g][s]}: the sum over group {@code g}'s tensors in stage
 *     {@code stages[s]} (0 where the group has no row in that stage)
 * @param tensors every tensor's total over all stages, largest first
 */
public record DriftMap(String weighting, List<String> groups, List<Integer> stages,
        double[][] byGroup, List<TensorTotal> tensors) {

    /**
     * One row of the input: one tensor's drift in one stage.
     *
     * @param stage the stage (0-based)
     * @param tensor the parameter's name
     * @param group its group (layer)
     * @param value its drift
     */
    public record Entry(int stage, String tensor, String group, double value) {}

    /**
     * One tensor's drift summed over the stages.
     *
     * @param tensor the parameter's name
     * @param group its group
     * @param total the sum of its drift over all stages
     */
    public record TensorTotal(String tensor, String group, double total) {}

    /**
     * Sums the rows per group and stage.
     *
     * @param weighting the weighting label
     * @param rows the per-tensor rows
     * @return the map (empty lists when there are no rows)
     */
    public static DriftMap of(String weighting, List<Entry> rows) {
        List<String> groups = new ArrayList<>();
        TreeSet<Integer> stageSet = new TreeSet<>();
        Map<String, TensorTotal> totals = new LinkedHashMap<>();
        for (Entry e : rows) {
            if (!groups.contains(e.group())) {
                groups.add(e.group());
            }
            stageSet.add(e.stage());
            totals.merge(e.tensor(), new TensorTotal(e.tensor(), e.group(), e.value()),
                    (a, b) -> new TensorTotal(a.tensor(), a.group(), a.total() + b.total()));
        }
        List<Integer> stages = List.copyOf(stageSet);
        double[][] sums = new double[groups.size()][stages.size()];
        for (Entry e : rows) {
            sums[groups.indexOf(e.group())][stages.indexOf(e.stage())] += e.value();
        }
        List<TensorTotal> tensors = new ArrayList<>(totals.values());
        tensors.sort(Comparator.comparingDouble(TensorTotal::total).reversed());
        return new DriftMap(weighting, List.copyOf(groups), stages, sums, List.copyOf(tensors));
    }

    /** @return true when there is nothing to show */
    public boolean isEmpty() {
        return groups.isEmpty();
    }
}
