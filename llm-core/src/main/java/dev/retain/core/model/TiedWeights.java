package dev.retain.core.model;

import ai.djl.ndarray.NDArray;

import java.util.ArrayList;
import java.util.List;

/** Finds the parameters of a module that are one tensor under two names (GPT-2's tied head). */
final class TiedWeights {

    private TiedWeights() {}

    /**
     * Drops parameters whose storage is shared with an earlier one (tied weights). Candidates are
     * tensors of the same shape and equal values; sharing is then proved by changing one element of
     * the first in place and looking at the second.
     */
    static List<NamedParameter> dedupe(List<NamedParameter> all, List<String> tied) {
        List<NamedParameter> unique = new ArrayList<>();
        outer:
        for (NamedParameter p : all) {
            for (NamedParameter u : unique) {
                if (u.array().getShape().equals(p.array().getShape())
                        && u.array().getDataType() == p.array().getDataType()
                        && sharesStorage(u.array(), p.array())) {
                    tied.add(p.name() + " = " + u.name());
                    continue outer;
                }
            }
            unique.add(p);
        }
        return unique;
    }

    private static boolean sharesStorage(NDArray a, NDArray b) {
        if (!a.contentEquals(b)) {
            return false;
        }
        NDArray flatA = a.reshape(-1);
        NDArray flatB = b.reshape(-1);
        try {
            float before = flatB.get(0).getFloat();
            // reshape of a contiguous tensor is a view; set_ on the view writes into a's storage.
            flatA.set(new ai.djl.ndarray.index.NDIndex("0"), before + 1f);
            float after = flatB.get(0).getFloat();
            flatA.set(new ai.djl.ndarray.index.NDIndex("0"), before);
            return after != before;
        } finally {
            flatA.close();
            flatB.close();
        }
    }
}
