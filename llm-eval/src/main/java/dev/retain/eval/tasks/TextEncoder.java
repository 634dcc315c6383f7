package dev.retain.eval.tasks;

import dev.retain.core.text.GptTokenizer;

/** Text to token ids, as the harness's {@code tok_encode} (no special tokens added). */
public interface TextEncoder {

    /**
     * @param text a string
     * @return its token ids
     */
    long[] encode(String text);

    /** @return the end-of-text id, the prefix of an empty context and of rolling windows */
    int eosId();

    /**
     * @param tokenizer a GPT-2 tokenizer
     * @return it as an encoder
     */
    static TextEncoder of(GptTokenizer tokenizer) {
        return new TextEncoder() {
            @Override
            public long[] encode(String text) {
                return text.isEmpty() ? new long[0] : tokenizer.encode(text);
            }

            @Override
            public int eosId() {
                return tokenizer.eosId();
            }
        };
    }
}
