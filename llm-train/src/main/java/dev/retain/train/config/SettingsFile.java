package dev.retain.train.config;

import dev.retain.core.UserError;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reading settings files (JSON or YAML) with the line of every key kept, so that an unknown key or
 * a wrong type is reported as {@code file:line: ...}.
 */
public final class SettingsFile {

    private SettingsFile() {}

    /**
     * A value from a settings file, with where it stood.
     *
     * @param value the value
     * @param line 1-based line of its key (0 when unknown)
     */
    public record Located(JsonNode value, int line) {}

    /**
     * Reads a JSON or YAML settings file (chosen by extension: .yaml/.yml are YAML).
     *
     * @param file the file
     * @return the root object, and a map from JSON pointer of each object field to its line
     */
    public static Parsed read(Path file) {
        return read(file, "settings file");
    }

    /**
     * Reads a JSON or YAML object (chosen by extension: .yaml/.yml are YAML). A key given twice in
     * one mapping is refused (Jackson's strict duplicate detection), since the later value would
     * silently replace the earlier one.
     *
     * @param file the file
     * @param what what the file is, for messages (e.g. {@code experiment file})
     * @return the root object, and a map from JSON pointer of each object field to its line
     */
    public static Parsed read(Path file, String what) {
        if (!Files.isRegularFile(file)) {
            throw new UserError(file + ": " + what + " not found");
        }
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean yaml = name.endsWith(".yaml") || name.endsWith(".yml");
        ObjectMapper mapper = yaml ? new ObjectMapper(new YAMLFactory()) : new ObjectMapper();
        mapper.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        Map<String, Integer> lines = new LinkedHashMap<>();
        try {
            byte[] bytes = Files.readAllBytes(file);
            try (JsonParser p = mapper.getFactory().createParser(bytes)) {
                recordLines(file, p, lines);
            }
            JsonNode root = mapper.readTree(bytes);
            if (root == null || !root.isObject()) {
                throw new UserError(file + ": expected a " + (yaml ? "YAML mapping" : "JSON object")
                        + " at the top level of the " + what);
            }
            return new Parsed(file, (ObjectNode) root, lines);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            throw new UserError(file + (loc != null ? ":" + loc.getLineNr() : "") + ": not valid "
                    + (yaml ? "YAML" : "JSON") + " (" + e.getOriginalMessage().split("\n")[0]
                    + ")", e);
        } catch (IOException e) {
            throw new UserError(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static void recordLines(Path file, JsonParser p, Map<String, Integer> lines)
            throws IOException {
        // Walks the token stream once, remembering the line of each field name by JSON pointer.
        java.util.ArrayDeque<String> path = new java.util.ArrayDeque<>();
        java.util.ArrayDeque<int[]> arrayIndex = new java.util.ArrayDeque<>();
        JsonToken t;
        String pending = null;
        while ((t = next(file, p, path, lines)) != null) {
            switch (t) {
                case FIELD_NAME:
                    pending = p.currentName();
                    lines.put(pointer(path) + "/" + pending, p.currentLocation().getLineNr());
                    break;
                case START_OBJECT:
                case START_ARRAY:
                    if (pending != null) {
                        path.addLast(pending);
                        pending = null;
                    } else if (!arrayIndex.isEmpty()) {
                        path.addLast(String.valueOf(arrayIndex.peekLast()[0]++));
                    } else {
                        path.addLast("");
                    }
                    arrayIndex.addLast(new int[] {t == JsonToken.START_ARRAY ? 0 : -1});
                    if (t == JsonToken.START_OBJECT && arrayIndex.size() > 1) {
                        lines.putIfAbsent(pointer(path), p.currentLocation().getLineNr());
                    }
                    break;
                case END_OBJECT:
                case END_ARRAY:
                    path.pollLast();
                    arrayIndex.pollLast();
                    break;
                default:
                    if (pending != null) {
                        pending = null;
                    } else if (!arrayIndex.isEmpty() && arrayIndex.peekLast()[0] >= 0) {
                        lines.put(pointer(path) + "/" + arrayIndex.peekLast()[0]++,
                                p.currentLocation().getLineNr());
                    }
            }
        }
    }

    /**
     * The next token; a key given twice in one mapping becomes one line naming both lines.
     */
    private static JsonToken next(Path file, JsonParser p, java.util.ArrayDeque<String> path,
            Map<String, Integer> lines) throws IOException {
        try {
            return p.nextToken();
        } catch (com.fasterxml.jackson.core.JsonParseException e) {
            String msg = e.getOriginalMessage();
            if (msg == null || !msg.startsWith("Duplicate field '")) {
                throw e;
            }
            String key = msg.substring("Duplicate field '".length(), msg.lastIndexOf('\''));
            Integer first = lines.get(pointer(path) + "/" + key);
            JsonLocation loc = e.getLocation();
            throw new UserError(file + (loc != null ? ":" + loc.getLineNr() : "") + ": key '"
                    + key + "' is given twice in the same mapping" + (first == null ? ""
                            : " (first at line " + first + ")") + "; the second would silently"
                    + " replace the first: keep one", e);
        }
    }

    private static String pointer(java.util.ArrayDeque<String> path) {
        StringBuilder sb = new StringBuilder();
        boolean first = true;
        for (String s : path) {
            if (first) {
                first = false; // the root
                continue;
            }
            sb.append('/').append(s);
        }
        return sb.toString();
    }

    /**
     * A parsed settings file.
     *
     * @param file where it came from
     * @param root the top-level object
     * @param lines JSON pointer of each field (e.g. {@code /variants/2/name}) to its line
     */
    public record Parsed(Path file, ObjectNode root, Map<String, Integer> lines) {

        /**
         * Where a field stood, for messages: {@code file:line}.
         *
         * @param pointer the field's JSON pointer
         * @return the location text
         */
        public String at(String pointer) {
            Integer l = lines.get(pointer);
            return l == null ? file.toString() : file + ":" + l;
        }

        /**
         * Rejects fields of an object that are not in the allowed list.
         *
         * @param node the object
         * @param pointer its JSON pointer ("" for the root)
         * @param allowed the allowed field names
         * @param what what the object is, for the message (e.g. "training setting")
         */
        public void rejectUnknown(JsonNode node, String pointer, List<String> allowed,
                String what) {
            for (var it = node.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!allowed.contains(k)) {
                    throw new UserError(at(pointer + "/" + k) + ": unknown " + what + " '" + k
                            + "'; known: " + String.join(", ", allowed));
                }
            }
        }
    }
}
