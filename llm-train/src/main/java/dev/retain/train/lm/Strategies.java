package dev.retain.train.lm;

import dev.retain.core.UserError;
import dev.retain.train.config.TrainConfig;
import dev.retain.train.plugin.Plugin;

import ai.djl.ndarray.NDManager;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The one place that maps a strategy name to its plugins. A strategy is {@code naive} (no
 * plugin) or components joined by {@code +} (e.g. {@code ewc+replay}); each component is one
 * registered plugin, and the plugins run in registration order whatever order the name gives.
 *
 * <p>Adding a strategy: write its {@link Plugin} class and add one {@link #register} line below;
 * {@code --strategy}, experiment files and help pick it up from {@link #names()}.
 */
public final class Strategies {

    /**
     * What a plugin is built from.
     *
     * @param config the run's settings
     * @param state the manager that state living as long as the run goes under
     * @param seqLen tokens per training window
     */
    public record Parts(TrainConfig config, NDManager state, int seqLen) {}

    private static final Map<String, Function<Parts, Plugin>> COMPONENTS = new LinkedHashMap<>();
    private static final List<String> PRESETS = new ArrayList<>();

    static {
        register("ewc", p -> new EwcPlugin(p.state(), p.config()));
        register("replay", p -> new ReplayPlugin(p.config().replayTokens(), p.seqLen()));
        register("l2", p -> new L2Plugin(p.state(), p.config().l2Lambda()));
        register("joint", p -> new JointPlugin());
        register("lwf", p -> new LwfPlugin());
        PRESETS.addAll(List.of("naive", "ewc", "replay", "ewc+replay", "l2", "l2+replay",
                "lwf", "replay+lwf", "ewc+replay+lwf", "joint"));
    }

    private Strategies() {}

    private static void register(String name, Function<Parts, Plugin> factory) {
        COMPONENTS.put(name, factory);
    }

    /** @return the strategy names shown in help: naive and the usual combinations */
    public static List<String> names() {
        return List.copyOf(PRESETS);
    }

    /**
     * The components of a strategy name, in registration order.
     *
     * @param strategy e.g. {@code ewc+replay}
     * @return e.g. [ewc, replay]; empty for naive
     * @throws UserError when a component is unknown or given twice
     */
    public static List<String> components(String strategy) {
        if (strategy.equals("naive")) {
            return List.of();
        }
        List<String> given = List.of(strategy.split("\\+", -1));
        for (String c : given) {
            if (!COMPONENTS.containsKey(c)) {
                throw new UserError("unknown strategy '" + strategy + "': '" + c + "' is not one of "
                        + String.join(", ", COMPONENTS.keySet()) + " (combine with +, e.g."
                        + " ewc+replay; or naive)");
            }
            if (given.indexOf(c) != given.lastIndexOf(c)) {
                throw new UserError("strategy '" + strategy + "' names " + c + " twice");
            }
        }
        List<String> out = new ArrayList<>();
        for (String c : COMPONENTS.keySet()) {
            if (given.contains(c)) {
                out.add(c);
            }
        }
        return out;
    }

    /**
     * Builds a strategy's plugins.
     *
     * @param parts what plugins are built from (the strategy is {@code parts.config().strategy()})
     * @return the plugins, in registration order
     */
    public static List<Plugin> plugins(Parts parts) {
        List<Plugin> out = new ArrayList<>();
        for (String c : components(parts.config().strategy())) {
            out.add(COMPONENTS.get(c).apply(parts));
        }
        return out;
    }
}
