package dev.retain.eval.tasks;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/**
 * One example of a task, after its format's preprocessing: the strings the harness builds its
 * requests from.
 */
public sealed interface TaskDoc permits TaskDoc.Choice, TaskDoc.Continuation, TaskDoc.Text {

    /** @return the line of the file it was read from (1-based) */
    int line();

    /**
     * @return the example as read (the JSON line; null for a text file's document); few-shot
     *     sampling leaves out the examples equal to the one being scored, as the harness does
     */
    JsonNode source();

    /**
     * @return the example as a few-shot demonstration: its context, the target delimiter, its
     *     answer and the few-shot delimiter {@code "\n\n"}
     */
    String shot();

    /**
     * A multiple-choice example.
     *
     * @param line the line
     * @param source the line as read
     * @param context the query ({@code doc_to_text})
     * @param choices the choices, without the target delimiter
     * @param gold the index of the right choice
     */
    record Choice(int line, JsonNode source, String context, List<String> choices, int gold)
            implements TaskDoc {

        /** Copies the choices. */
        public Choice {
            choices = List.copyOf(choices);
        }

        @Override
        public String shot() {
            return context + TaskRequests.TARGET_DELIMITER + choices.get(gold)
                    + TaskRequests.FEWSHOT_DELIMITER;
        }
    }

    /**
     * A loglikelihood example (LAMBADA: the text but its last word, then that word).
     *
     * @param line the line
     * @param source the line as read
     * @param context the context
     * @param continuation the continuation, its leading space included
     */
    record Continuation(int line, JsonNode source, String context, String continuation)
            implements TaskDoc {

        @Override
        public String shot() {
            return context + TaskRequests.TARGET_DELIMITER + continuation
                    + TaskRequests.FEWSHOT_DELIMITER;
        }
    }

    /**
     * A document scored whole by rolling windows.
     *
     * @param line the line it starts on
     * @param source the line as read, or null for a text file
     * @param text the text scored
     * @param words its word count for word perplexity ({@code len(re.split(r"\s+", doc))} of the
     *     original document)
     * @param bytes its UTF-8 length for byte perplexity and bits per byte (of the original)
     */
    record Text(int line, JsonNode source, String text, long words, long bytes)
            implements TaskDoc {

        @Override
        public String shot() {
            throw new UnsupportedOperationException("rolling perplexity has no few-shot form");
        }
    }
}
