package dev.retain.core.text;

import java.io.IOException;

/**
 * Cuts text that arrives in pieces into documents at {@code <|endoftext|>}, which may straddle
 * two pieces: each document's text goes to a {@link Target} in parts, then its end. As the
 * whole-text rule: a text of n separators is n + 1 documents (empty ones included).
 */
final class EotSplitter {

    /** Where the documents go. */
    interface Target {
        /**
         * More text of the current document.
         *
         * @param part the text; valid only during the call
         * @throws IOException when it cannot be taken
         */
        void text(CharSequence part) throws IOException;

        /**
         * The current document ends; the next text starts another.
         *
         * @throws IOException when it cannot be taken
         */
        void end() throws IOException;
    }

    private static final String EOT = GptTokenizer.EOS_TEXT;

    private final Target target;
    /** The end of the last piece that could be the start of a separator. */
    private final StringBuilder held = new StringBuilder();

    /** @param target takes the documents */
    EotSplitter(Target target) {
        this.target = target;
    }

    /**
     * Takes the next piece of text.
     *
     * @param piece the text (a line's piece or its line break)
     * @throws IOException when the target fails
     */
    void add(CharSequence piece) throws IOException {
        CharSequence s = piece;
        if (held.length() > 0) {
            s = held.append(piece);
        }
        int from = 0;
        int at;
        while ((at = find(s, from)) >= 0) {
            if (at > from) {
                target.text(s.subSequence(from, at));
            }
            target.end();
            from = at + EOT.length();
        }
        int keep = partialAtEnd(s, from);
        if (s.length() - keep > from) {
            target.text(s.subSequence(from, s.length() - keep));
        }
        String tail = s.subSequence(s.length() - keep, s.length()).toString();
        held.setLength(0);
        held.append(tail);
    }

    /**
     * Ends the text: the last document ends (an empty one when the text ended with a separator).
     *
     * @throws IOException when the target fails
     */
    void finish() throws IOException {
        if (held.length() > 0) {
            target.text(held);
            held.setLength(0);
        }
        target.end();
    }

    private static int find(CharSequence s, int from) {
        for (int i = from, last = s.length() - EOT.length(); i <= last; i++) {
            if (s.charAt(i) == '<' && matches(s, i, EOT.length())) {
                return i;
            }
        }
        return -1;
    }

    /** @return how many chars at the end of s (after from) could begin a separator */
    private static int partialAtEnd(CharSequence s, int from) {
        for (int k = Math.min(EOT.length() - 1, s.length() - from); k > 0; k--) {
            if (matches(s, s.length() - k, k)) {
                return k;
            }
        }
        return 0;
    }

    private static boolean matches(CharSequence s, int at, int n) {
        for (int j = 0; j < n; j++) {
            if (s.charAt(at + j) != EOT.charAt(j)) {
                return false;
            }
        }
        return true;
    }
}
