package dev.retain.bench;

import dev.retain.core.util.Json;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One performance target: a measured value against a limit.
 *
 * @param name the key in the report, e.g. {@code ewc_over_naive}
 * @param label what it is, for the table
 * @param value the measured value (NaN when not measured)
 * @param atMost whether the value must be at most the limit (else at least)
 * @param limit the limit
 * @param applies whether the target is defined for this configuration (e.g. the MFU target is
 *     stated for the mini model at batch 8, sequence 256); the status is computed either way
 * @param note how it was measured, or why it is not
 */
public record Target(String name, String label, double value, boolean atMost, double limit,
        boolean applies, String note) {

    /** Status of a target that was met. */
    public static final String MET = "met";
    /** Status of a target that was missed. */
    public static final String MISSED = "missed";
    /** Status of a target that was not measured in this run. */
    public static final String SKIPPED = "not measured";

    /** @return {@link #MET}, {@link #MISSED} or {@link #SKIPPED} */
    public String status() {
        if (Double.isNaN(value)) {
            return SKIPPED;
        }
        return (atMost ? value <= limit : value >= limit) ? MET : MISSED;
    }

    /** @return the comparison as text, e.g. {@code <= 1.05} */
    public String condition() {
        return (atMost ? "<= " : ">= ") + trim(limit);
    }

    /** @return the target as a JSON object */
    public ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.put("label", label);
        if (Double.isNaN(value)) {
            o.putNull("value");
        } else {
            o.put("value", value);
        }
        o.put("comparison", atMost ? "<=" : ">=");
        o.put("limit", limit);
        o.put("status", status());
        o.put("applies", applies);
        o.put("note", note);
        return o;
    }

    private static String trim(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }
}
