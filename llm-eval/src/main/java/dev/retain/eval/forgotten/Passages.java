package dev.retain.eval.forgotten;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a compared window into passages: the whole window, or, where a document ends inside it
 * (an end-of-text token), each document's part, the end-of-text token going with the document
 * it ends. A part with fewer than the minimum of scored tokens is left out unless it is the
 * window's only one. The window's unscored first tokens are the first passage's context.
 */
final class Passages {

    private Passages() {}

    /**
     * @param index the window's index
     * @param b the first model's detail of the window
     * @param a the second's
     * @param text token texts
     * @param minTokens the fewest scored tokens of a document's part
     * @return the passages
     */
    static List<Passage> of(int index, WindowDetail b, WindowDetail a, TokenText text,
            int minTokens) {
        int[] ids = b.ids();
        int f = b.firstScored();
        List<int[]> parts = new ArrayList<>();
        int from = f;
        for (int p = f; p < ids.length; p++) {
            if (ids[p] == text.eos() && p + 1 < ids.length) {
                parts.add(new int[] {from, p + 1});
                from = p + 1;
            }
        }
        parts.add(new int[] {from, ids.length});
        String[] pieces = text.pieces(ids);
        List<Passage> out = new ArrayList<>();
        for (int[] part : parts) {
            if (parts.size() > 1 && part[1] - part[0] < minTokens) {
                continue;
            }
            out.add(passage(index, b, a, text, pieces, part[0] == f ? 0 : part[0], part[1]));
        }
        return out;
    }

    private static Passage passage(int index, WindowDetail b, WindowDetail a, TokenText text,
            String[] pieces, int from, int to) {
        int f = b.firstScored();
        List<Passage.Token> tokens = new ArrayList<>();
        double sb = 0;
        double sa = 0;
        int n = 0;
        for (int p = from; p < to; p++) {
            if (p < f) {
                tokens.add(new Passage.Token(pieces[p], p, false, Double.NaN, Double.NaN, "",
                        "", false, false));
                continue;
            }
            int i = p - f;
            double nb = b.nll()[i];
            double na = a.nll()[i];
            sb += nb;
            sa += na;
            n++;
            tokens.add(new Passage.Token(pieces[p], p, true, nb, na, text.token(b.argmax()[i]),
                    text.token(a.argmax()[i]), b.right(i), a.right(i)));
        }
        return new Passage(index, b.start(), tokens, sb / n, sa / n);
    }
}
