package dev.retain.core.text;

import java.io.IOException;

/**
 * Tokenizes documents that arrive in pieces into a token file: the end-of-text id between
 * documents (none before the first or after the last), and each document's text encoded in
 * parts of at most {@link #PART} chars, so that memory holds one part, not the document.
 *
 * <p>A document longer than a part is cut where GPT-2's pre-tokenizer splits the text anyway, so
 * that the ids are those of the whole document: after a line break that has a non-space
 * character on each side, else before a space that has one on each side (the pre-tokenizer never
 * joins a space to the word before it, nor a line break to a word). Only a part with neither (a
 * quarter of a million characters without such a place) is cut where it ends; BPE can then
 * differ from the whole document's at that cut alone.
 * (GPT-2's pre-tokenizer pattern is {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
 * ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}: a space joins the word after it, white space before a
 * word is left without its last space, and no piece holds both a non-space and what follows it
 * across white space.)
 */
final class DocumentEncoder implements EotSplitter.Target {

    /** The most chars encoded at once. */
    static final int PART = 1 << 18;

    private final GptTokenizer tokenizer;
    private final TokenFile.Writer out;
    private final int part;
    private final StringBuilder doc = new StringBuilder();
    private boolean first = true;
    private boolean open;

    /**
     * @param tokenizer the tokenizer
     * @param out where the ids go
     */
    DocumentEncoder(GptTokenizer tokenizer, TokenFile.Writer out) {
        this(tokenizer, out, PART);
    }

    /** With another part length (tests cut small documents). */
    DocumentEncoder(GptTokenizer tokenizer, TokenFile.Writer out, int part) {
        this.tokenizer = tokenizer;
        this.out = out;
        this.part = part;
    }

    @Override
    public void text(CharSequence text) throws IOException {
        begin();
        doc.append(text);
        while (doc.length() > 2 * part) {
            int cut = cut(doc, part);
            encode(doc.substring(0, cut));
            doc.delete(0, cut);
        }
    }

    @Override
    public void end() throws IOException {
        begin();
        if (doc.length() > 0) {
            encode(doc.toString());
        }
        doc.setLength(0);
        open = false;
    }

    private void begin() throws IOException {
        if (!open) {
            if (!first) {
                out.add(tokenizer.eosId());
            }
            first = false;
            open = true;
        }
    }

    private void encode(String text) throws IOException {
        for (long id : tokenizer.encode(text)) {
            out.add((int) id);
        }
    }

    /**
     * Where to cut the first part of a text: at most {@code max} chars, as late as a cut that
     * keeps the ids allows.
     *
     * @param s the text (longer than max)
     * @param max the most chars before the cut
     * @return the length of the part before the cut
     */
    static int cut(CharSequence s, int max) {
        for (int p = max; p > 1; p--) {
            char before = s.charAt(p - 1);
            char after = s.charAt(p);
            if (before == '\n' && !blank(s.charAt(p - 2)) && !blank(after)
                    || after == ' ' && !blank(before) && !blank(s.charAt(p + 1))) {
                return p;
            }
        }
        return Character.isHighSurrogate(s.charAt(max - 1)) ? max - 1 : max;
    }

    /** White space to GPT-2's pre-tokenizer: Java's, and the no-break spaces too. */
    private static boolean blank(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c);
    }
}
