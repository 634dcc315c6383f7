package dev.retain.eval.results;

import dev.retain.core.util.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * What a task-free run ({@code retain train --stream}) records beside its score matrix:
 * results.json's {@code stream} object.
 *
 * @param consolidate the rule ({@code plateau}, {@code every:N} or {@code none})
 * @param consolidations the detections and consolidations, in order
 * @param points the evaluation points ({@code eval-every-tokens}), in order; empty without
 */
public record TaskFree(String consolidate, List<Consolidation> consolidations,
        List<Point> points) {

    /** Copies the lists. */
    public TaskFree {
        consolidations = List.copyOf(consolidations);
        points = List.copyOf(points);
    }

    /**
     * A detection or consolidation.
     *
     * @param step the global step after which it happened
     * @param tokens new tokens trained on up to then
     * @param trigger {@code plateau} (the detector) or {@code every} (the token count)
     * @param consolidated whether the strategies consolidated there
     * @param segment the source being read then
     */
    public record Consolidation(long step, long tokens, String trigger, boolean consolidated,
            int segment) {

        /** @return as results.json and report.json hold it */
        public ObjectNode toJson() {
            ObjectNode c = Json.object();
            c.put("step", step);
            c.put("tokens", tokens);
            c.put("trigger", trigger);
            c.put("consolidated", consolidated);
            c.put("segment", segment);
            return c;
        }

        /**
         * @param c what {@link #toJson()} wrote
         * @return the consolidation, or null when its step is not a whole number
         */
        static Consolidation of(JsonNode c) {
            if (!c.path("step").canConvertToLong()) {
                return null;
            }
            return new Consolidation(c.path("step").asLong(), c.path("tokens").asLong(),
                    c.path("trigger").asText(), c.path("consolidated").asBoolean(),
                    c.path("segment").asInt());
        }
    }

    /**
     * An evaluation point: a row of the stream's score matrix.
     *
     * @param step the global step
     * @param tokens new tokens trained on up to then
     * @param meanNll each source's test mean NLL, in stream order
     */
    public record Point(long step, long tokens, double[] meanNll) {}

    /** @return the steps of the detections and consolidations */
    public List<Long> steps() {
        return consolidations.stream().map(Consolidation::step).toList();
    }

    /**
     * Forgetting over the evaluation points: for each source whose data was all seen before the
     * last point, its final mean NLL minus its best (lowest) at the points after its last window
     * (nats, positive = forgot); NaN for the others. With points only after each source this is
     * the score matrix's forgetting.
     *
     * @param seenAfter per source, the step after which its last window was trained
     * @return per source
     */
    public double[] forgetting(long[] seenAfter) {
        double[] out = new double[seenAfter.length];
        java.util.Arrays.fill(out, Double.NaN);
        if (points.isEmpty()) {
            return out;
        }
        Point last = points.get(points.size() - 1);
        for (int j = 0; j < out.length && j < last.meanNll().length; j++) {
            double best = Double.POSITIVE_INFINITY;
            for (Point p : points) {
                if (p.step() >= seenAfter[j] && p != last) {
                    best = Math.min(best, p.meanNll()[j]);
                }
            }
            if (best < Double.POSITIVE_INFINITY) {
                out[j] = last.meanNll()[j] - best;
            }
        }
        return out;
    }
}
