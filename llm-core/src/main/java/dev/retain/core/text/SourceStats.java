package dev.retain.core.text;

import dev.retain.core.util.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What reading a domain source found: documents and bytes written to each split, empty documents
 * skipped, and bad JSONL lines skipped ({@code --skip-bad-lines}) with the first one's message.
 * Filled while a source is read; kept in its split folder's {@code source.json}.
 */
public final class SourceStats {

    private final long[] documents = new long[3];
    private final long[] bytes = new long[3];
    private long emptyDocuments;
    private long badLines;
    private String firstBadLine;

    /**
     * @param split a split
     * @return documents written to it
     */
    public long documents(Split split) {
        return documents[split.ordinal()];
    }

    /** @return documents written to all splits */
    public long documents() {
        return documents[0] + documents[1] + documents[2];
    }

    /**
     * @param split a split
     * @return bytes of its text file (documents and separators)
     */
    public long bytes(Split split) {
        return bytes[split.ordinal()];
    }

    /** @return empty or white-space-only documents, skipped */
    public long emptyDocuments() {
        return emptyDocuments;
    }

    /** @return bad JSONL lines skipped ({@code --skip-bad-lines}) */
    public long badLines() {
        return badLines;
    }

    /** @return the message of the first bad line skipped, or null when none was */
    public String firstBadLine() {
        return firstBadLine;
    }

    void addDocument(Split split, long size) {
        documents[split.ordinal()]++;
        bytes[split.ordinal()] += size;
    }

    void addEmpty() {
        emptyDocuments++;
    }

    void addBadLine(String message) {
        badLines++;
        if (firstBadLine == null) {
            firstBadLine = message;
        }
    }

    /** @return the counts as JSON, for {@code source.json} */
    public ObjectNode toJson() {
        ObjectNode o = Json.object();
        ObjectNode d = o.putObject("documents");
        ObjectNode b = o.putObject("bytes");
        for (Split s : Split.values()) {
            d.put(s.label(), documents(s));
            b.put(s.label(), bytes(s));
        }
        o.put("empty_documents", emptyDocuments);
        o.put("bad_lines", badLines);
        if (firstBadLine != null) {
            o.put("first_bad_line", firstBadLine);
        }
        return o;
    }

    /**
     * Reads counts written by {@link #toJson()}.
     *
     * @param o the object
     * @return the counts, or null when the object is not such counts
     */
    static SourceStats fromJson(JsonNode o) {
        SourceStats s = new SourceStats();
        for (Split sp : Split.values()) {
            JsonNode d = o.path("documents").get(sp.label());
            JsonNode b = o.path("bytes").get(sp.label());
            if (d == null || b == null || !d.canConvertToLong() || !b.canConvertToLong()) {
                return null;
            }
            s.documents[sp.ordinal()] = d.asLong();
            s.bytes[sp.ordinal()] = b.asLong();
        }
        s.emptyDocuments = o.path("empty_documents").asLong();
        s.badLines = o.path("bad_lines").asLong();
        JsonNode f = o.get("first_bad_line");
        s.firstBadLine = f == null ? null : f.asText();
        return s;
    }
}
