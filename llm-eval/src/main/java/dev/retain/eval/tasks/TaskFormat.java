package dev.retain.eval.tasks;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The layouts a task file's lines can have ({@code --task-format}): retain's own three, and
 * presets that read public data sets as they are downloaded, with the text processing of
 * lm-evaluation-harness's task of the same name.
 *
 * <table>
 *   <caption>formats</caption>
 *   <tr><th>format</th><th>line</th><th>request</th></tr>
 *   <tr><td>{@code multiple_choice}</td><td>{@code {"context", "choices", "gold"}}</td>
 *       <td>context, " " + choice</td></tr>
 *   <tr><td>{@code loglikelihood}</td><td>{@code {"context", "continuation"}}</td>
 *       <td>context, continuation (as written)</td></tr>
 *   <tr><td>{@code rolling}</td><td>{@code {"text"}}, or a .txt file</td>
 *       <td>the whole text</td></tr>
 *   <tr><td>{@code hellaswag}</td><td>{@code activity_label, ctx_a, ctx_b, endings, label}</td>
 *       <td>the harness's preprocess</td></tr>
 *   <tr><td>{@code arc}</td><td>{@code question, choices.text, choices.label, answerKey}</td>
 *       <td>"Question: {question}\nAnswer:"</td></tr>
 *   <tr><td>{@code piqa}</td><td>{@code goal, sol1, sol2, label}</td>
 *       <td>"Question: {goal}\nAnswer:"</td></tr>
 *   <tr><td>{@code lambada}</td><td>{@code text}</td>
 *       <td>all but the last word, " " + the last word</td></tr>
 *   <tr><td>{@code wikitext}</td><td>{@code page}</td>
 *       <td>the harness's detokenizer, words and bytes of the page</td></tr>
 * </table>
 */
public enum TaskFormat {

    /** Tells the format from the file: a .txt file is rolling, a JSONL file by its fields. */
    AUTO("auto", null),
    /** {@code {"context", "choices", "gold"}}. */
    MULTIPLE_CHOICE("multiple_choice", TaskKind.MULTIPLE_CHOICE),
    /** {@code {"context", "continuation"}}. */
    LOGLIKELIHOOD("loglikelihood", TaskKind.LOGLIKELIHOOD),
    /** {@code {"text"}} lines, or a text file of documents separated by {@code <|endoftext|>}. */
    ROLLING("rolling", TaskKind.ROLLING),
    /** HellaSwag ({@code Rowan/hellaswag}, rowanz/hellaswag's jsonl). */
    HELLASWAG("hellaswag", TaskKind.MULTIPLE_CHOICE),
    /** ARC-Easy and ARC-Challenge ({@code allenai/ai2_arc}, or AI2's own jsonl). */
    ARC("arc", TaskKind.MULTIPLE_CHOICE),
    /** PIQA ({@code baber/piqa}, label inline). */
    PIQA("piqa", TaskKind.MULTIPLE_CHOICE),
    /** LAMBADA ({@code EleutherAI/lambada_openai}). */
    LAMBADA("lambada", TaskKind.LOGLIKELIHOOD),
    /** WikiText ({@code EleutherAI/wikitext_document_level}). */
    WIKITEXT("wikitext", TaskKind.ROLLING);

    private final String label;
    private final TaskKind kind;

    TaskFormat(String label, TaskKind kind) {
        this.label = label;
        this.kind = kind;
    }

    /** @return the name {@code --task-format} takes */
    public String label() {
        return label;
    }

    /** @return how its tasks are scored; null for {@link #AUTO} */
    public TaskKind kind() {
        return kind;
    }

    /** @return every name {@code --task-format} takes, in help order */
    public static List<String> labels() {
        List<String> out = new ArrayList<>();
        for (TaskFormat f : values()) {
            out.add(f.label);
        }
        return out;
    }

    /**
     * @param label a name as {@code --task-format} takes it
     * @return the format, or null when there is none of that name
     */
    public static TaskFormat of(String label) {
        for (TaskFormat f : values()) {
            if (f.label.equals(label.toLowerCase(Locale.ROOT))) {
                return f;
            }
        }
        return null;
    }

    /** A line that does not fit the format; the reader adds the file and line. */
    static final class BadLine extends RuntimeException {
        BadLine(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Tells a JSON line's format from its fields.
     *
     * @param node the first line
     * @return the format
     * @throws BadLine when the fields fit none, or fit more than one
     */
    static TaskFormat detect(JsonNode node) {
        if (node.has("context") && node.has("choices")) {
            return MULTIPLE_CHOICE;
        }
        if (node.has("context") && node.has("continuation")) {
            return LOGLIKELIHOOD;
        }
        if (node.has("ctx_a") && node.has("endings")) {
            return HELLASWAG;
        }
        if (node.has("question") && (node.has("choices") || node.path("question").has("choices"))
                && node.has("answerKey")) {
            return ARC;
        }
        if (node.has("goal") && node.has("sol1")) {
            return PIQA;
        }
        if (node.has("page")) {
            return WIKITEXT;
        }
        if (node.has("text")) {
            throw new BadLine("a {\"text\"} line is a LAMBADA example (its last word scored) or a"
                    + " document for rolling perplexity: give --task-format lambada or rolling");
        }
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        throw new BadLine("cannot tell the task format from the fields " + names + "; give"
                + " --task-format (" + String.join(", ", labels().subList(1, labels().size()))
                + ")");
    }

    /**
     * Reads one line of this format.
     *
     * @param n the line's JSON object
     * @param line its number
     * @return the example
     * @throws BadLine when a field is missing or wrong
     */
    TaskDoc read(JsonNode n, int line) {
        return switch (this) {
            case MULTIPLE_CHOICE -> choice(n, line, string(n, "context"), strings(n, "choices"),
                    "gold");
            case LOGLIKELIHOOD -> new TaskDoc.Continuation(line, n, string(n, "context"),
                    string(n, "continuation"));
            case ROLLING -> rolling(n, line, string(n, "text"));
            case HELLASWAG -> hellaswag(n, line);
            case ARC -> arc(n, line);
            case PIQA -> choice(n, line, "Question: " + string(n, "goal") + "\nAnswer:",
                    List.of(string(n, "sol1"), string(n, "sol2")), "label");
            case LAMBADA -> lambada(n, line, string(n, "text"));
            case WIKITEXT -> wikitext(n, line, string(n, "page"));
            case AUTO -> throw new IllegalStateException("detect the format first");
        };
    }

    private static TaskDoc choice(JsonNode n, int line, String context, List<String> choices,
            String goldField) {
        return new TaskDoc.Choice(line, n, context, choices, gold(n, goldField, choices.size()));
    }

    /**
     * A document for rolling perplexity, its words and bytes counted on the text itself.
     *
     * @param source the line as read, or null
     * @param line where it starts
     * @param text the document
     * @return the example
     */
    static TaskDoc.Text rolling(JsonNode source, int line, String text) {
        return new TaskDoc.Text(line, source, text, PyText.splitWhitespaceCount(text),
                PyText.utf8Length(text));
    }

    // ------------------------------------------------------------------------ the presets

    /**
     * lm-evaluation-harness {@code tasks/hellaswag/utils.py}: query = preprocess(activity_label
     * + ": " + ctx_a + " " + ctx_b.capitalize()), choices = preprocess(each ending), gold =
     * int(label).
     */
    private static TaskDoc hellaswag(JsonNode n, int line) {
        String ctx = string(n, "ctx_a") + " " + PyText.capitalize(string(n, "ctx_b"));
        List<String> endings = strings(n, "endings");
        List<String> choices = new ArrayList<>();
        for (String e : endings) {
            choices.add(HarnessText.hellaswag(e));
        }
        return new TaskDoc.Choice(line, n,
                HarnessText.hellaswag(string(n, "activity_label") + ": " + ctx), choices,
                gold(n, "label", choices.size()));
    }

    /**
     * ARC: "Question: {question}\nAnswer:", choices = choices.text, gold = the index of answerKey
     * in choices.label. Reads the Hugging Face layout ({@code question} a string, {@code choices}
     * an object of lists) and AI2's original one ({@code question.stem}, {@code
     * question.choices[].text/label}).
     */
    private static TaskDoc arc(JsonNode n, int line) {
        String question;
        List<String> texts = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        JsonNode q = n.get("question");
        if (q != null && q.isObject()) {
            question = string(q, "stem");
            JsonNode cs = q.get("choices");
            if (cs == null || !cs.isArray()) {
                throw new BadLine("\"question.choices\" must be a list of {\"text\", \"label\"}");
            }
            for (JsonNode c : cs) {
                texts.add(string(c, "text"));
                labels.add(string(c, "label"));
            }
        } else {
            question = string(n, "question");
            JsonNode cs = n.get("choices");
            if (cs == null || !cs.isObject()) {
                throw new BadLine("no \"choices\" object with \"text\" and \"label\" lists");
            }
            texts = strings(cs, "text");
            labels = strings(cs, "label");
        }
        if (texts.isEmpty()) {
            throw new BadLine("\"choices\" is empty: a multiple-choice example needs choices");
        }
        if (labels.size() != texts.size()) {
            throw new BadLine("\"choices.label\" has " + labels.size() + " labels for "
                    + texts.size() + " choices");
        }
        String key = string(n, "answerKey");
        int gold = labels.indexOf(key);
        if (gold < 0) {
            throw new BadLine("answerKey \"" + key + "\" is not one of the labels " + labels);
        }
        return new TaskDoc.Choice(line, n, "Question: " + question + "\nAnswer:", texts, gold);
    }

    /**
     * LAMBADA ({@code lambada_openai.yaml}): context = {@code " ".join(text.split(" ")[:-1])},
     * continuation = {@code " " + text.split(" ")[-1]}.
     */
    private static TaskDoc lambada(JsonNode n, int line, String text) {
        int at = text.lastIndexOf(' ');
        return new TaskDoc.Continuation(line, n, at < 0 ? "" : text.substring(0, at),
                " " + text.substring(at + 1));
    }

    /** WikiText: the detokenized page is scored; words and bytes are those of the page. */
    private static TaskDoc wikitext(JsonNode n, int line, String page) {
        return new TaskDoc.Text(line, n, HarnessText.wikitext(page),
                PyText.splitWhitespaceCount(page), PyText.utf8Length(page));
    }

    // ------------------------------------------------------------------------ fields

    private static String string(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            throw new BadLine("no \"" + field + "\" field");
        }
        if (!v.isTextual()) {
            throw new BadLine("\"" + field + "\" must be a string, not " + kindOf(v));
        }
        return v.textValue();
    }

    private static List<String> strings(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            throw new BadLine("no \"" + field + "\" field");
        }
        if (!v.isArray()) {
            throw new BadLine("\"" + field + "\" must be a list of strings, not " + kindOf(v));
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : v) {
            if (!e.isTextual()) {
                throw new BadLine("\"" + field + "\" must hold strings only, not " + kindOf(e));
            }
            out.add(e.textValue());
        }
        if (out.isEmpty()) {
            throw new BadLine("\"" + field + "\" is empty: a multiple-choice example needs"
                    + " choices");
        }
        return out;
    }

    /** The gold index: an integer, or a string holding one ({@code int(doc["label"])}). */
    private static int gold(JsonNode n, String field, int choices) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            throw new BadLine("no \"" + field + "\" field (the index of the right choice)");
        }
        long g;
        if (v.isIntegralNumber()) {
            g = v.asLong();
        } else if (v.isTextual() && PyText.strip(v.textValue()).matches("[+-]?[0-9]{1,9}")) {
            g = Long.parseLong(PyText.strip(v.textValue()));
        } else {
            throw new BadLine("\"" + field + "\" must be the index of the right choice, not "
                    + (v.isTextual() ? "\"" + v.textValue() + "\"" : kindOf(v)));
        }
        if (g < 0 || g >= choices) {
            throw new BadLine("\"" + field + "\" " + g + " is out of range: " + choices
                    + " choices, so 0 to " + (choices - 1));
        }
        return (int) g;
    }

    private static String kindOf(JsonNode v) {
        return switch (v.getNodeType()) {
            case ARRAY -> "a list";
            case OBJECT -> "an object";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case STRING -> "a string";
            default -> v.getNodeType().toString().toLowerCase(Locale.ROOT);
        };
    }
}
