package dev.retain.eval.tasks;

import dev.retain.core.UserError;
import dev.retain.core.text.GptTokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * A task file, read: its name, its format and its examples in file order.
 *
 * <p>A JSONL file holds one example per line (blank lines are skipped); a {@code .txt} file is
 * documents separated by {@code <|endoftext|>}, as a domain's split files are, scored by rolling
 * perplexity. Either may be gzip-compressed ({@code .gz}). Every bad line is a {@link UserError}
 * of one line, {@code FILE:LINE: what is wrong}.
 *
 * @param name the task's name: the file's name without {@code .gz}, {@code .jsonl}, {@code .json}
 *     or {@code .txt}
 * @param file the file
 * @param format its format (never {@link TaskFormat#AUTO})
 * @param docs its examples
 */
public record Task(String name, Path file, TaskFormat format, List<TaskDoc> docs) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Copies the examples. */
    public Task {
        docs = List.copyOf(docs);
    }

    /** @return how the task is scored */
    public TaskKind kind() {
        return format.kind();
    }

    /**
     * Reads a task file.
     *
     * @param file the file
     * @param format its format, or {@link TaskFormat#AUTO} to tell it from the file
     * @return the task
     * @throws UserError when the file cannot be read, a line is bad or there is no example
     */
    public static Task read(Path file, TaskFormat format) {
        String name = nameOf(file);
        boolean text = file.getFileName().toString().replaceAll("\\.gz$", "").endsWith(".txt");
        byte[] bytes = bytes(file);
        List<TaskDoc> docs;
        TaskFormat resolved = format;
        if (text && (format == TaskFormat.AUTO || format == TaskFormat.ROLLING)) {
            resolved = TaskFormat.ROLLING;
            docs = textDocuments(file, bytes);
        } else {
            docs = new ArrayList<>();
            resolved = jsonLines(file, bytes, format, docs);
        }
        if (docs.isEmpty()) {
            throw new UserError(file + ": no examples; a task file holds one JSON example per"
                    + " line (or, for rolling perplexity, text)");
        }
        return new Task(name, file, resolved, docs);
    }

    /**
     * @param file a task file
     * @return its task name: the file name without {@code .gz} and {@code .jsonl}, {@code .json}
     *     or {@code .txt}
     */
    public static String nameOf(Path file) {
        return file.getFileName().toString().replaceAll("\\.gz$", "")
                .replaceAll("\\.(jsonl|json|txt)$", "");
    }

    private static byte[] bytes(Path file) {
        try (InputStream raw = Files.newInputStream(file);
                InputStream in = file.getFileName().toString().endsWith(".gz")
                        ? new GZIPInputStream(raw, 1 << 16) : raw) {
            return in.readAllBytes();
        } catch (NoSuchFileException e) {
            throw new UserError(file + ": task file not found", e);
        } catch (IOException e) {
            throw new UserError(file + ": cannot read the task file (" + e.getMessage() + ")", e);
        }
    }

    private static TaskFormat jsonLines(Path file, byte[] bytes, TaskFormat format,
            List<TaskDoc> docs) {
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        TaskFormat f = format;
        int line = 0;
        int from = 0;
        while (from < bytes.length) {
            int end = from;
            while (end < bytes.length && bytes[end] != '\n') {
                end++;
            }
            line++;
            String s;
            try {
                s = decoder.decode(ByteBuffer.wrap(bytes, from, end - from)).toString();
            } catch (CharacterCodingException e) {
                throw new UserError(file + ":" + line + ": not UTF-8 text");
            }
            from = end + 1;
            if (s.isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = JSON.readTree(s);
            } catch (JsonProcessingException e) {
                throw new UserError(file + ":" + line + ": not JSON ("
                        + e.getOriginalMessage().lines().findFirst().orElse("") + ")");
            }
            if (node == null || !node.isObject()) {
                throw new UserError(file + ":" + line + ": expected a JSON object, one example"
                        + " per line");
            }
            try {
                if (f == TaskFormat.AUTO) {
                    f = TaskFormat.detect(node);
                }
                docs.add(f.read(node, line));
            } catch (TaskFormat.BadLine e) {
                throw new UserError(file + ":" + line + ": " + e.getMessage()
                        + (format == TaskFormat.AUTO && f != TaskFormat.AUTO
                                ? " (read as " + f.label() + ")" : ""));
            }
        }
        return f == TaskFormat.AUTO ? TaskFormat.ROLLING : f;
    }

    /** A text file's documents: the pieces between {@code <|endoftext|>}, empty ones skipped. */
    private static List<TaskDoc> textDocuments(Path file, byte[] bytes) {
        String content = utf8(file, bytes);
        List<TaskDoc> docs = new ArrayList<>();
        int from = 0;
        int line = 1;
        while (from <= content.length()) {
            int at = content.indexOf(GptTokenizer.EOS_TEXT, from);
            int end = at < 0 ? content.length() : at;
            String doc = content.substring(from, end);
            if (!doc.isEmpty()) {
                docs.add(TaskFormat.rolling(null, line, doc));
            }
            line += (int) doc.chars().filter(c -> c == '\n').count();
            if (at < 0) {
                break;
            }
            from = at + GptTokenizer.EOS_TEXT.length();
        }
        return docs;
    }

    /** The text of a file; bytes that are not UTF-8 are a {@code FILE:LINE} error. */
    private static String utf8(Path file, byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(in).toString();
        } catch (CharacterCodingException e) {
            int line = 1;
            for (int i = 0; i < in.position(); i++) {
                line += bytes[i] == '\n' ? 1 : 0;
            }
            throw new UserError(file + ":" + line + ": not UTF-8 text");
        }
    }
}
