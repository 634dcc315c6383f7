package dev.retain.train;

import dev.retain.core.util.Json;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.math.BigDecimal;
import java.math.MathContext;

/**
 * Training diverged: a step's loss or gradient norm was not finite, a loss exceeded the run's
 * bound ({@code --divergence-factor} times the loss of the domain's first step), or an evaluation
 * gave a non-finite perplexity. The run stops without saving a checkpoint; {@link
 * ContinualTrainer#run()} records it in results.json (status {@code diverged}, the {@code
 * divergence} object) and the command line exits with code 3.
 */
public final class Divergence extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The exit code of a run that diverged (0 = complete, 2 = a user error, 130 = stopped). */
    public static final int EXIT_CODE = 3;

    private final long step;
    private final int stage;
    private final String domain;
    private final String what;
    private final double value;

    /**
     * @param step the global step (1-based) at which it happened
     * @param stage the domain index
     * @param domain the domain's name
     * @param what what went wrong, e.g. {@code loss 26673.2 > 10 x 5.31 (the domain's first
     *     step)}
     * @param value the offending value (a loss, a gradient norm, a perplexity)
     * @param message the one line for the user
     */
    Divergence(long step, int stage, String domain, String what, double value, String message) {
        super(message);
        this.step = step;
        this.stage = stage;
        this.domain = domain;
        this.what = what;
        this.value = value;
    }

    /** @return the global step (1-based) at which the run diverged */
    public long step() {
        return step;
    }

    /**
     * The {@code divergence} object of results.json.
     *
     * @return step, stage, domain, reason, value (null when not finite) and the message
     */
    public ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.put("step", step);
        o.put("stage", stage);
        o.put("task", domain);
        o.put("reason", what);
        if (Double.isFinite(value)) {
            o.put("value", value);
        } else {
            o.putNull("value");
        }
        o.put("message", getMessage());
        return o;
    }

    /** @return a value with at most 6 significant digits, without trailing zeros */
    static String number(double v) {
        if (!Double.isFinite(v)) {
            return String.valueOf(v);
        }
        BigDecimal d = new BigDecimal(v).round(new MathContext(6)).stripTrailingZeros();
        return Math.abs(v) < 1e7 ? d.toPlainString() : d.toString();
    }
}
