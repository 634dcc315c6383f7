package dev.retain.eval.forgotten;

import java.util.ArrayList;
import java.util.List;

/**
 * Whole words of a window, for summing NLL over a word's tokens: a word starts at a token whose
 * text starts with white space or with a character that is neither a letter nor a digit (or
 * follows such a character), and goes on over the tokens that start with a letter or digit. A
 * word counts when it holds a letter or a digit and lies wholly inside the window's scored
 * tokens (words cut by the window's start or end are left out); its text is trimmed of white
 * space. The end-of-text token is never part of a word.
 */
final class Words {

    /**
     * A word.
     *
     * @param text its text, trimmed
     * @param from its first token's scored index
     * @param to one past its last token's scored index
     */
    record Word(String text, int from, int to) {}

    private Words() {}

    /**
     * @param w a window
     * @param text token texts
     * @return its scored words, in order
     */
    static List<Word> of(WindowDetail w, TokenText text) {
        String[] pieces = text.pieces(w.ids());
        int[] ids = w.ids();
        List<Word> out = new ArrayList<>();
        int f = w.firstScored();
        int start = f;
        boolean cut = !startsWord(pieces[f - 1], pieces[f]);
        for (int p = f + 1; p < pieces.length; p++) {
            if (startsWord(pieces[p - 1], pieces[p]) || ids[p] == text.eos()
                    || ids[p - 1] == text.eos()) {
                if (!cut && ids[start] != text.eos()) {
                    add(out, pieces, start, p, f);
                }
                cut = false;
                start = p;
            }
        }
        return out;
    }

    private static boolean startsWord(String previous, String piece) {
        if (piece.isEmpty() || previous.isEmpty()) {
            return true;
        }
        int first = piece.codePointAt(0);
        int last = previous.codePointBefore(previous.length());
        return !Character.isLetterOrDigit(first) || !Character.isLetterOrDigit(last);
    }

    private static void add(List<Word> out, String[] pieces, int from, int to, int first) {
        StringBuilder sb = new StringBuilder();
        for (int p = from; p < to; p++) {
            sb.append(pieces[p]);
        }
        String word = sb.toString().strip();
        if (word.codePoints().anyMatch(Character::isLetterOrDigit)) {
            out.add(new Word(word, from - first, to - first));
        }
    }
}
