package dev.retain.classic;

import dev.retain.core.UserError;
import dev.retain.classic.data.Scenario;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** The classifier strategies of {@code retain classic}. */
public enum Strategy {
    /** Fine-tune on each task in turn (the lower bound). */
    NAIVE("naive", "fine-tune on each task in turn (lower bound)"),
    /** Train on all tasks seen so far together (the upper bound). */
    JOINT("joint", "train on the union of all tasks so far (upper bound)"),
    /** EWC with one penalty (Fisher and anchor) per finished task. */
    EWC("ewc", "elastic weight consolidation, one penalty per finished task"),
    /** Online EWC: one running Fisher {@code F = gamma F + F_new}, anchor at the last task. */
    ONLINE_EWC("online-ewc", "online EWC, F = gamma*F_old + F_new, one anchor"),
    /** Experience replay from a budgeted reservoir (or class-balanced) memory. */
    REPLAY("replay", "experience replay from a memory of --replay-samples examples"),
    /** Progressive neural networks: a frozen column per task, lateral connections. */
    PNN("pnn", "progressive networks: one column per task, earlier columns frozen"),
    /** Meta-experience replay (Riemer et al. 2019), first-order Reptile updates. */
    MER("mer", "meta-experience replay (online, first-order Reptile)"),
    /** MAML-style meta-continual update with a support/query split, second-order. */
    MAML("maml", "MAML-style online meta update, support/query split, second-order");

    private final String key;
    private final String summary;

    Strategy(String key, String summary) {
        this.key = key;
        this.summary = summary;
    }

    /** @return the command-line name, e.g. {@code online-ewc} */
    public String key() {
        return key;
    }

    /** @return one line for the help */
    public String summary() {
        return summary;
    }

    /** @return true for the online learners, which see each training example once */
    public boolean online() {
        return this == MER || this == MAML;
    }

    /** @return whether it keeps a replay memory */
    public boolean usesMemory() {
        return this == REPLAY || this == MER || this == MAML;
    }

    /**
     * Checks that the strategy can run in a scenario.
     *
     * @param scenario the scenario
     * @throws UserError when it cannot (a progressive network needs the task's identity to pick
     *     its column at test time, which only task-IL gives)
     */
    public void check(Scenario scenario) {
        if (this == PNN && scenario != Scenario.TASK) {
            throw new UserError("--strategy pnn cannot run in the " + scenario.key()
                    + " scenario: a progressive network needs task identity at test time to pick"
                    + " its column, which only task-IL gives; use --scenario task or another"
                    + " strategy");
        }
    }

    /**
     * Parses one strategy name.
     *
     * @param value the name
     * @param option the option it came from, for messages
     * @return the strategy
     * @throws UserError for an unknown name
     */
    public static Strategy parse(String value, String option) {
        String v = value.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        for (Strategy s : values()) {
            if (s.key.equals(v)) {
                return s;
            }
        }
        throw new UserError(option + ": unknown strategy '" + value + "'; use one of "
                + names());
    }

    /**
     * Parses a comma-separated list ({@code naive,ewc,replay}; {@code all} for every strategy).
     *
     * @param value the list
     * @param option the option it came from
     * @return the strategies, in the order given, without repeats
     */
    public static List<Strategy> parseList(String value, String option) {
        if (value.trim().equalsIgnoreCase("all")) {
            return List.of(values());
        }
        Set<Strategy> out = new LinkedHashSet<>();
        for (String part : value.split(",")) {
            if (part.isBlank()) {
                throw new UserError(option + " " + value + ": empty name in the list; give"
                        + " names separated by commas, e.g. naive,ewc,replay");
            }
            out.add(parse(part, option));
        }
        return new ArrayList<>(out);
    }

    /** @return every name, separated by {@code |} */
    public static String names() {
        return Stream.of(values()).map(Strategy::key).collect(Collectors.joining("|"));
    }
}
