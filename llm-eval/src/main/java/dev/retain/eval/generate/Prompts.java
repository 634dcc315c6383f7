package dev.retain.eval.generate;

import dev.retain.core.UserError;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a prompts file ({@code --prompts}): one prompt a line, or JSON Lines with a {@code
 * prompt} string field (a file whose first non-blank line starts with <code>{</code>). Blank lines
 * are skipped; a line's prompt is its text without the line break (leading and trailing spaces
 * kept).
 */
public final class Prompts {

    /** The most prompts a file may hold (each is generated after every stage). */
    public static final int MAX = 100;

    private Prompts() {}

    /**
     * @param file the file
     * @return its prompts, in order
     * @throws UserError when it is missing, not UTF-8, holds a bad JSON line, no prompt, or more
     *     than {@link #MAX}
     */
    public static List<String> read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UserError("--prompts " + file + ": file not found", e);
        } catch (MalformedInputException e) {
            throw new UserError("--prompts " + file + ": not UTF-8 text; convert it to UTF-8", e);
        } catch (IOException e) {
            throw new UserError("--prompts " + file + ": cannot read it (" + e.getMessage() + ")",
                    e);
        }
        boolean jsonl = lines.stream().filter(l -> !l.isBlank()).findFirst()
                .map(l -> l.strip().startsWith("{")).orElse(false);
        ObjectMapper mapper = new ObjectMapper();
        List<String> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            if (!jsonl) {
                out.add(line);
                continue;
            }
            String where = "--prompts " + file + ":" + (i + 1);
            JsonNode node;
            try {
                node = mapper.readTree(line);
            } catch (JsonProcessingException e) {
                throw new UserError(where + ": not JSON (" + e.getOriginalMessage() + "); a JSON"
                        + " Lines prompts file has one object with a \"prompt\" string a line", e);
            }
            JsonNode p = node == null ? null : node.get("prompt");
            if (p == null || !p.isTextual()) {
                throw new UserError(where + ": no \"prompt\" string field");
            }
            out.add(p.asText());
        }
        if (out.isEmpty()) {
            throw new UserError("--prompts " + file + ": holds no prompt; write one a line");
        }
        if (out.size() > MAX) {
            throw new UserError("--prompts " + file + ": " + out.size() + " prompts, at most "
                    + MAX + " (each is continued after every stage)");
        }
        return out;
    }
}
