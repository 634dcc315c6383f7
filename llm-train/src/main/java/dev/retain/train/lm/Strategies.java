package dev.retain.train.lm;

import dev.retain.core.UserError;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyGroup;
import dev.retain.train.config.Settings;
import dev.retain.train.plugin.Plugin;

import ai.djl.ndarray.NDManager;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The one place that maps a strategy name to its plugins, and the owner of the {@code strategy}
 * setting. A strategy is {@code naive} (no plugin) or components joined by {@code +} (e.g. {@code
 * ewc+replay}); each component is one registered plugin with the settings it owns, and the
 * plugins run in registration order whatever order the name gives.
 *
 * <p>Adding a strategy: write its {@link Plugin} class (its settings declared in it, in a {@link
 * KeyGroup}) and add one {@link #register} line below; {@code --strategy}, experiment files and
 * help pick it up.
 */
public final class Strategies {

    /**
     * What a plugin is built from.
     *
     * @param settings the run's settings (each plugin reads the keys it owns)
     * @param state the manager that state living as long as the run goes under
     * @param seqLen tokens per training window
     */
    public record Parts(Settings settings, NDManager state, int seqLen) {}

    private record Component(KeyGroup keys, Function<Parts, Plugin> factory) {}

    private static final Map<String, Component> COMPONENTS = new LinkedHashMap<>();
    private static final List<String> PRESETS = List.of("naive", "ewc", "replay", "ewc+replay",
            "l2", "l2+replay", "lwf", "replay+lwf", "ewc+replay+lwf", "joint");

    static {
        register("ewc", EwcPlugin.KEYS, p -> new EwcPlugin(p.state(), p.settings()));
        register("replay", ReplayPlugin.KEYS, p -> new ReplayPlugin(p.settings(), p.seqLen()));
        register("l2", L2Plugin.KEYS, p -> new L2Plugin(p.state(), p.settings()));
        register("joint", new KeyGroup(), p -> new JointPlugin());
        register("lwf", LwfPlugin.KEYS, p -> new LwfPlugin(p.settings()));
    }

    /** The strategy setting. */
    public static final KeyGroup KEYS = new KeyGroup();
    /** naive, or plugins joined by +. */
    public static final Key<String> STRATEGY = KEYS.add(Key.choice("strategy", "naive", PRESETS,
            String.join(", ", PRESETS) + " (a strategy is its plugins joined by +)")
            .metavar("NAME"));
    /** The settings of every registered component, in registration order. */
    public static final KeyGroup COMPONENT_KEYS = componentKeys();

    private Strategies() {}

    private static void register(String name, KeyGroup keys, Function<Parts, Plugin> factory) {
        COMPONENTS.put(name, new Component(keys, factory));
    }

    private static KeyGroup componentKeys() {
        KeyGroup all = new KeyGroup();
        COMPONENTS.values().forEach(c -> c.keys().keys().forEach(all::add));
        return all;
    }

    /** @return the strategy names shown in help: naive and the usual combinations */
    public static List<String> names() {
        return PRESETS;
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
     * @param settings a run's settings
     * @param component e.g. {@code replay}
     * @return whether the run's strategy has that component
     */
    public static boolean uses(Settings settings, String component) {
        return components(settings.get(STRATEGY)).contains(component);
    }

    /**
     * Builds a strategy's plugins.
     *
     * @param parts what plugins are built from (the strategy is the settings' {@link #STRATEGY})
     * @return the plugins, in registration order
     */
    public static List<Plugin> plugins(Parts parts) {
        List<Plugin> out = new ArrayList<>();
        for (String c : components(parts.settings().get(STRATEGY))) {
            out.add(COMPONENTS.get(c).factory().apply(parts));
        }
        return out;
    }
}
