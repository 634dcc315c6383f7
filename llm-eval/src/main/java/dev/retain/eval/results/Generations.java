package dev.retain.eval.results;

import dev.retain.core.UserError;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The model's own words in a run's results.json ({@code --prompts}): each prompt's continuation
 * after the base evaluation and after every stage, under the key {@code generations}:
 * <pre>
 * "generations": {"sampling": "greedy", "max_new_tokens": 40, "prompts": ["...", ...],
 *   "rows": [{"row": 0, "model": "base model", "continuations": ["...", ...],
 *             "ids": [[...], ...]}, ...]}
 * </pre>
 * Row K is the results matrix's row: 0 the base model, K the model after the K-th domain.
 */
public final class Generations {

    /** The key in results.json. */
    public static final String KEY = "generations";

    /**
     * One evaluation's continuations.
     *
     * @param row the results row
     * @param model its label ({@code base model}, {@code after computing})
     * @param continuations one text per prompt
     * @param ids their token ids
     */
    public record Row(int row, String model, List<String> continuations, List<int[]> ids) {

        /** Copies the lists. */
        public Row {
            continuations = List.copyOf(continuations);
            ids = List.copyOf(ids);
        }
    }

    /**
     * A run's prompts and continuations.
     *
     * @param sampling how tokens were chosen ({@code greedy} or the sampling settings)
     * @param maxNewTokens the most tokens a continuation adds
     * @param prompts the prompts
     * @param rows one row per evaluation so far
     */
    public record Table(String sampling, int maxNewTokens, List<String> prompts, List<Row> rows) {

        /** Copies the lists. */
        public Table {
            prompts = List.copyOf(prompts);
            rows = List.copyOf(rows);
        }
    }

    private Generations() {}

    /**
     * Adds (or replaces) one evaluation's continuations.
     *
     * @param results the recorder
     * @param sampling how tokens are chosen
     * @param maxNewTokens the most tokens a continuation adds
     * @param prompts the prompts
     * @param row the continuations
     */
    public static void add(ResultsRecorder results, String sampling, int maxNewTokens,
            List<String> prompts, Row row) {
        ObjectNode root = results.json();
        ObjectNode g = root.has(KEY) ? (ObjectNode) root.get(KEY) : root.putObject(KEY);
        g.put("sampling", sampling);
        g.put("max_new_tokens", maxNewTokens);
        ArrayNode p = g.putArray("prompts");
        prompts.forEach(p::add);
        ArrayNode rows = g.has("rows") ? (ArrayNode) g.get("rows") : g.putArray("rows");
        for (int i = rows.size() - 1; i >= 0; i--) {
            if (rows.get(i).path("row").asInt() >= row.row()) {
                rows.remove(i);
            }
        }
        ObjectNode r = rows.addObject();
        r.put("row", row.row());
        r.put("model", row.model());
        ArrayNode texts = r.putArray("continuations");
        row.continuations().forEach(texts::add);
        ArrayNode ids = r.putArray("ids");
        for (int[] a : row.ids()) {
            ArrayNode x = ids.addArray();
            for (int id : a) {
                x.add(id);
            }
        }
    }

    /**
     * Reads a run's continuations.
     *
     * @param resultsFile the run's results.json
     * @return them, or null when the run has none
     * @throws UserError when the file cannot be read
     */
    public static Table read(Path resultsFile) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readAllBytes(resultsFile));
        } catch (IOException e) {
            throw new UserError(resultsFile + ": cannot read it (" + e.getMessage() + ")", e);
        }
        return of(root);
    }

    /**
     * @param results a results.json document
     * @return its continuations, or null when it has none
     */
    public static Table of(JsonNode results) {
        JsonNode g = results == null ? null : results.get(KEY);
        if (g == null || !g.isObject()) {
            return null;
        }
        List<String> prompts = new ArrayList<>();
        g.path("prompts").forEach(p -> prompts.add(p.asText()));
        List<Row> rows = new ArrayList<>();
        for (JsonNode r : g.path("rows")) {
            List<String> texts = new ArrayList<>();
            r.path("continuations").forEach(t -> texts.add(t.asText()));
            List<int[]> ids = new ArrayList<>();
            for (JsonNode a : r.path("ids")) {
                int[] x = new int[a.size()];
                for (int i = 0; i < x.length; i++) {
                    x[i] = a.get(i).asInt();
                }
                ids.add(x);
            }
            rows.add(new Row(r.path("row").asInt(), r.path("model").asText(), texts, ids));
        }
        return new Table(g.path("sampling").asText(), g.path("max_new_tokens").asInt(), prompts,
                rows);
    }
}
