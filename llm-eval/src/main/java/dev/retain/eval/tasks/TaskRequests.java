package dev.retain.eval.tasks;

import dev.retain.core.UserError;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns a task's examples into token-level loglikelihood requests exactly as lm-evaluation-harness
 * does for a decoder-only Hugging Face model ({@code api/task.py construct_requests}, {@code
 * api/model.py loglikelihood} and {@code _encode_pair}, {@code models/huggingface.py
 * _loglikelihood_tokens} and {@code loglikelihood_rolling}, {@code utils.py
 * get_rolling_token_windows} and {@code make_disjoint_window}):
 *
 * <ul>
 *   <li>multiple choice: one request per choice, {@code (context, " " + choice)};
 *       loglikelihood: {@code (context, continuation)};
 *   <li>trailing white space of the context moves to the front of the continuation; the whole
 *       string is encoded, the context alone is encoded, and the continuation's tokens are the
 *       whole's tokens after the context's;
 *   <li>an empty context is the end-of-text token alone (or, when the continuation itself starts
 *       with that token, the continuation's first token);
 *   <li>few-shot: k examples drawn by {@code random.Random(seed).sample(docs, k + 1)}, the one
 *       scored left out, each written as context + " " + answer + "\n\n", before the context; one
 *       generator for the whole task, drawn from in example order;
 *   <li>rolling: the document's tokens in windows of the model's context, the first window
 *       predicting every token from an end-of-text prefix, each later one the next up to
 *       max-length tokens from the one token before them.
 * </ul>
 *
 * What the model is fed is {@link Request#input}: the request's tokens left-truncated to the
 * context + 1, the last one dropped.
 */
public final class TaskRequests {

    /** The harness's {@code target_delimiter}, between a context and a choice. */
    public static final String TARGET_DELIMITER = " ";

    /** The harness's {@code fewshot_delimiter}, after each few-shot example. */
    public static final String FEWSHOT_DELIMITER = "\n\n";

    private TaskRequests() {}

    /**
     * One loglikelihood request.
     *
     * @param doc the example's index in the task
     * @param part the choice (multiple choice) or window (rolling) it scores; 0 otherwise
     * @param context the context's tokens (at least one)
     * @param continuation the tokens whose log-likelihood is summed (at least one)
     */
    public record Request(int doc, int part, long[] context, long[] continuation) {

        /**
         * The model's input: {@code (context + continuation)[-(maxLength + 1):][:-1]}.
         *
         * @param maxLength the model's context length
         * @return the input ids; its last {@code continuation.length} positions predict the
         *     continuation
         */
        public long[] input(int maxLength) {
            int total = context.length + continuation.length;
            int from = Math.max(0, total - (maxLength + 1));
            long[] in = new long[total - 1 - from];
            for (int i = 0; i < in.length; i++) {
                int at = from + i;
                in[i] = at < context.length ? context[at] : continuation[at - context.length];
            }
            return in;
        }

        /** @return the input length for {@code maxLength} */
        int inputLength(int maxLength) {
            return Math.min(maxLength, context.length + continuation.length - 1);
        }
    }

    /**
     * The harness's {@code loglikelihood} tokenization of one {@code (context, continuation)}.
     *
     * @param enc the tokenizer
     * @param context the context (may be empty)
     * @param continuation the continuation
     * @return {context tokens, continuation tokens}
     */
    public static long[][] encodePair(TextEncoder enc, String context, String continuation) {
        if (context.isEmpty()) {
            long[] cont = enc.encode(continuation);
            if (cont.length > 0 && cont[0] == enc.eosId()) {
                return new long[][] {Arrays.copyOf(cont, 1), Arrays.copyOfRange(cont, 1,
                        cont.length)};
            }
            return new long[][] {{enc.eosId()}, cont};
        }
        int spaces = PyText.trailingSpace(context);
        String ctx = context.substring(0, context.length() - spaces);
        String cont = context.substring(context.length() - spaces) + continuation;
        return split(enc.encode(ctx + cont), enc.encode(ctx).length);
    }

    private static long[][] split(long[] whole, int contextLength) {
        int n = Math.min(contextLength, whole.length);
        return new long[][] {Arrays.copyOf(whole, n), Arrays.copyOfRange(whole, n, whole.length)};
    }

    /**
     * {@code get_rolling_token_windows(tokens, prefix, maxLength, context_len=1)} with {@code
     * make_disjoint_window}: {context, continuation} pairs covering every token once.
     *
     * @param tokens the document's tokens
     * @param prefix the end-of-text id
     * @param maxLength the model's context length
     * @return the windows, in order
     */
    public static List<long[][]> rollingWindows(long[] tokens, long prefix, int maxLength) {
        List<long[][]> out = new ArrayList<>();
        if (tokens.length == 0) {
            return out;
        }
        int first = Math.min(maxLength, tokens.length);
        out.add(new long[][] {{prefix}, Arrays.copyOf(tokens, first)});
        int predicted = first;
        while (predicted < tokens.length) {
            int len = Math.min(tokens.length - predicted, maxLength);
            int end = predicted + len;
            // input tokens[end - maxLength - 1 : end - 1], made disjoint: its first
            // (input length - (len - 1)) tokens are the context
            int inStart = Math.max(0, end - maxLength - 1);
            int ctxLen = (end - 1 - inStart) - (len - 1);
            out.add(new long[][] {Arrays.copyOfRange(tokens, inStart, inStart + ctxLen),
                    Arrays.copyOfRange(tokens, end - len, end)});
            predicted = end;
        }
        return out;
    }

    /**
     * Builds a task's requests.
     *
     * @param task the task
     * @param enc the tokenizer
     * @param maxLength the model's context length
     * @param numFewshot few-shot examples before each context (multiple choice and loglikelihood
     *     tasks; rolling perplexity has none, as in the harness)
     * @param seed the few-shot sampler's seed
     * @param limit score only the first this many examples, 0 for all
     * @return the requests, in example order (then choice or window order)
     * @throws UserError when the task has too few examples for the few-shot draw, or an
     *     example's continuation has no token of its own or more than the context
     */
    public static List<Request> build(Task task, TextEncoder enc, int maxLength, int numFewshot,
            long seed, int limit) {
        int n = limit > 0 ? Math.min(limit, task.docs().size()) : task.docs().size();
        boolean shots = numFewshot > 0 && task.kind() != TaskKind.ROLLING;
        if (shots && task.docs().size() < numFewshot + 1) {
            throw new UserError(task.file() + ": --num-fewshot " + numFewshot + " draws "
                    + (numFewshot + 1) + " examples of the file (the scored one may be among"
                    + " them), but it has " + task.docs().size() + "; give at most "
                    + (task.docs().size() - 1));
        }
        PyRandom rnd = new PyRandom(seed);
        List<Request> out = new ArrayList<>();
        for (int d = 0; d < n; d++) {
            TaskDoc doc = task.docs().get(d);
            String prefix = shots ? fewshot(task.docs(), doc, numFewshot, rnd) : "";
            if (doc instanceof TaskDoc.Choice c) {
                for (int k = 0; k < c.choices().size(); k++) {
                    add(out, task, doc, d, k, encodePair(enc, prefix + c.context(),
                            TARGET_DELIMITER + c.choices().get(k)), maxLength);
                }
            } else if (doc instanceof TaskDoc.Continuation c) {
                add(out, task, doc, d, 0, encodePair(enc, prefix + c.context(),
                        c.continuation()), maxLength);
            } else {
                List<long[][]> ws = rollingWindows(enc.encode(((TaskDoc.Text) doc).text()),
                        enc.eosId(), maxLength);
                for (int w = 0; w < ws.size(); w++) {
                    out.add(new Request(d, w, ws.get(w)[0], ws.get(w)[1]));
                }
            }
        }
        return out;
    }

    private static void add(List<Request> out, Task task, TaskDoc doc, int d, int part,
            long[][] pair, int maxLength) {
        if (pair[1].length == 0) {
            throw new UserError(task.file() + ":" + doc.line() + ": the continuation"
                    + (doc instanceof TaskDoc.Choice ? " of choice " + part : "")
                    + " adds no token of its own (the tokenizer merges it into the context);"
                    + " its log-likelihood is undefined");
        }
        if (pair[1].length > maxLength) {
            throw new UserError(task.file() + ":" + doc.line() + ": the continuation"
                    + (doc instanceof TaskDoc.Choice ? " of choice " + part : "") + " is "
                    + pair[1].length + " tokens, more than the model's context (" + maxLength
                    + ")");
        }
        out.add(new Request(d, part, pair[0], pair[1]));
    }

    /** The few-shot prefix of one example: the harness's sampler, then the examples' shots. */
    private static String fewshot(List<TaskDoc> pool, TaskDoc doc, int k, PyRandom rnd) {
        StringBuilder sb = new StringBuilder();
        int taken = 0;
        for (int i : rnd.sample(pool.size(), k + 1)) {
            TaskDoc shot = pool.get(i);
            if (taken < k && !shot.source().equals(doc.source())) {
                sb.append(shot.shot());
                taken++;
            }
        }
        return sb.toString();
    }
}
