package dev.retain.train.replay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;

import java.util.ArrayList;
import java.util.List;

/**
 * The windows of the highest-loss steps (Aljundi et al.'s hard buffer): at most {@code capacity}
 * windows, highest loss first, a window offered later placed after those of equal loss. A window
 * is a {@code long} (its source and start, as the caller packs them); a step's windows share its
 * loss. Saved and restored exactly ({@link #toJson}, {@link #restore}).
 */
public final class HardWindows {

    private final int capacity;
    /** {window, loss bits}, highest loss first. */
    private final List<long[]> held = new ArrayList<>();

    /** @param capacity the most windows kept; 0 keeps none */
    public HardWindows(int capacity) {
        this.capacity = capacity;
    }

    /**
     * Keeps a window when its loss is among the highest so far.
     *
     * @param window the window
     * @param loss its step's loss
     */
    public void offer(long window, double loss) {
        int at = held.size();
        while (at > 0 && Double.longBitsToDouble(held.get(at - 1)[1]) < loss) {
            at--;
        }
        if (at < capacity) {
            held.add(at, new long[] {window, Double.doubleToRawLongBits(loss)});
            if (held.size() > capacity) {
                held.remove(held.size() - 1);
            }
        }
    }

    /** @return the windows, highest loss first */
    public List<Long> windows() {
        return held.stream().map(h -> h[0]).toList();
    }

    /** @return whether it holds none */
    public boolean isEmpty() {
        return held.isEmpty();
    }

    /** Forgets every window. */
    public void clear() {
        held.clear();
    }

    /** @param out an array to fill with {@code [window, loss]} pairs, highest loss first */
    public void toJson(ArrayNode out) {
        held.forEach(h -> out.addArray().add(h[0]).add(Double.longBitsToDouble(h[1])));
    }

    /** @param in what {@link #toJson} wrote (missing: none) */
    public void restore(JsonNode in) {
        held.clear();
        in.forEach(h -> held.add(new long[] {h.get(0).asLong(),
                Double.doubleToRawLongBits(h.get(1).asDouble())}));
    }
}
