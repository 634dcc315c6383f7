package dev.retain.eval.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The hand-made run directories in src/test/resources/runs (made by runs/make_fixtures.py):
 * {@code naive}, {@code ewc}, {@code ewc-replay} (language models over computing, legal, code,
 * scripture, with curves, drift and stages), {@code running} (killed during stage 2),
 * {@code classifier-naive} and {@code classifier-ewc} (split-MNIST-like, with std_rows).
 */
final class Fixtures {

    static final ObjectMapper MAPPER = new ObjectMapper();

    private Fixtures() {}

    /** @return the fixture run directory {@code name} */
    static Path run(String name) {
        URL url = Fixtures.class.getResource("/runs/" + name + "/results.json");
        if (url == null) {
            throw new IllegalStateException("no fixture runs/" + name);
        }
        try {
            return Path.of(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return a fixture's results.json as an editable tree */
    static ObjectNode tree(String name) {
        try {
            return (ObjectNode) MAPPER.readTree(run(name).resolve("results.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Replaces every string value {@code from} in a tree (task names in tasks, stages, curves).
     *
     * @param node the tree, changed in place
     * @param from the old value
     * @param to the new value
     * @return {@code node}
     */
    static JsonNode rename(JsonNode node, String from, String to) {
        if (node instanceof ObjectNode o) {
            var it = o.fields();
            while (it.hasNext()) {
                var e = it.next();
                if (e.getValue().isTextual() && e.getValue().asText().equals(from)) {
                    e.setValue(TextNode.valueOf(to));
                } else {
                    rename(e.getValue(), from, to);
                }
            }
        } else if (node instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                if (a.get(i).isTextual() && a.get(i).asText().equals(from)) {
                    a.set(i, TextNode.valueOf(to));
                } else {
                    rename(a.get(i), from, to);
                }
            }
        }
        return node;
    }

    /**
     * Writes a results tree as a run directory.
     *
     * @param parent where to make it
     * @param dir the directory's name
     * @param results the tree
     * @return the run directory
     */
    static Path write(Path parent, String dir, ObjectNode results) throws IOException {
        Path d = parent.resolve(dir);
        Files.createDirectories(d);
        MAPPER.writerWithDefaultPrettyPrinter().writeValue(d.resolve("results.json").toFile(),
                results);
        return d;
    }
}
