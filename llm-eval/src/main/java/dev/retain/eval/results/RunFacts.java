package dev.retain.eval.results;

import static dev.retain.eval.results.ResultsKeys.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Instant;
import java.util.List;

/**
 * The run-level facts of a language-model run's results.json: its status and when it finished
 * ({@code complete}, or {@code diverged} with the {@code divergence} object), the input files
 * that changed before a resume ({@code changed_inputs}), the number format it computes in ({@code
 * environment.precision}) and its peak resident memory with the scope of that peak.
 */
final class RunFacts {

    private final ObjectNode root;

    /** @param root the results document */
    RunFacts(ObjectNode root) {
        this.root = root;
    }

    /** @param divergence what happened: status {@code diverged}, finished now */
    void diverged(ObjectNode divergence) {
        ResultsCodec.finish(root, DIVERGED, Instant.now().toString());
        root.set(DIVERGENCE, divergence);
    }

    /** Status {@code complete}, finished now. */
    void complete() {
        ResultsCodec.complete(root, Instant.now().toString());
    }

    /**
     * @param files each changed file ({@code "PATH (changed)"}); nothing when empty
     * @param atStep the global step the run resumed at
     */
    void changedInputs(List<String> files, long atStep) {
        if (files.isEmpty()) {
            return;
        }
        ArrayNode a = root.has(CHANGED_INPUTS) ? (ArrayNode) root.get(CHANGED_INPUTS)
                : root.putArray(CHANGED_INPUTS);
        for (String f : files) {
            ObjectNode o = a.addObject();
            o.put(FILE, f);
            o.put(RESUMED_AT_STEP, atStep);
        }
    }

    /**
     * @param label {@code fp32} or {@code bf16}
     * @param why one clause
     */
    void precision(String label, String why) {
        ObjectNode env = (ObjectNode) root.get(ENVIRONMENT);
        env.put(PRECISION, label);
        env.put(PRECISION_REASON, why);
    }

    /** @return the recorded precision, or null (older files) */
    String precision() {
        JsonNode p = root.path(ENVIRONMENT).path(PRECISION);
        return p.isTextual() ? p.asText() : null;
    }

    /** @param bytes a peak, kept when positive and above the one recorded */
    void peakRss(long bytes) {
        if (bytes > 0) {
            root.put(PEAK_RSS_BYTES, Math.max(bytes, ResultsCodec.peakRss(root)));
        }
    }

    /** @param reset whether this session reset the peak counter: the scope stays run if so */
    void peakRssScope(boolean reset) {
        boolean before = !ResultsCodec.SCOPE_PROCESS.equals(ResultsCodec.peakRssScope(root));
        root.put(PEAK_RSS_SCOPE, reset && before ? ResultsCodec.SCOPE_RUN
                : ResultsCodec.SCOPE_PROCESS);
    }
}
