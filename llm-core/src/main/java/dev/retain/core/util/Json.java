package dev.retain.core.util;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;

/** One configured JSON mapper, and atomic writing of JSON files. */
public final class Json {

    /** The shared mapper: pretty output, keys in insertion order. */
    public static final ObjectMapper MAPPER =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Json() {}

    /**
     * Why a JSON file could not be read, in one line: Jackson's message without the second line
     * it adds, then where ({@code at line L, column C}).
     *
     * @param e what reading threw
     * @return e.g. {@code Unrecognized token 'garbage': was expecting ... at line 1, column 20}
     */
    public static String why(Exception e) {
        if (e instanceof JsonProcessingException j) {
            JsonLocation at = j.getLocation();
            return String.valueOf(j.getOriginalMessage()).split("\n")[0].strip()
                    + (at == null || at.getLineNr() < 0 ? "" : " at line " + at.getLineNr()
                            + ", column " + at.getColumnNr());
        }
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m.split("\n")[0].strip();
    }

    /** @return a new empty object node */
    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    /**
     * Writes a value as pretty JSON, atomically (temporary file, then rename).
     *
     * @param file the target
     * @param value a Jackson node, record, map, ...
     * @throws IOException when writing fails
     */
    public static void write(Path file, Object value) throws IOException {
        byte[] bytes = MAPPER.writeValueAsBytes(value);
        AtomicFiles.write(file, out -> {
            out.write(bytes);
            out.write('\n');
        });
    }
}
