package dev.retain.eval.forgotten;

import java.util.List;

/**
 * A stretch of one window shown token by token: the whole window, or one document's part of it
 * where the window holds the end of one document and the start of the next.
 *
 * @param window the window's index among the compared ones (0 = the first of the split)
 * @param start where the window starts in the split's token stream
 * @param tokens the passage's tokens in order, context tokens (not scored) first
 * @param meanBefore mean NLL of its scored tokens before, nats
 * @param meanAfter the same after
 */
public record Passage(int window, long start, List<Token> tokens, double meanBefore,
        double meanAfter) {

    /**
     * One token of a passage.
     *
     * @param text its text (cut at token boundaries, so the passage's texts concatenate)
     * @param position its position in the window
     * @param scored false for context that no NLL belongs to
     * @param nllBefore its NLL before (NaN when not scored)
     * @param nllAfter its NLL after
     * @param topBefore the text of the model's top prediction for it before ("" when not scored)
     * @param topAfter the same after
     * @param rightBefore whether the top prediction before was the token
     * @param rightAfter the same after
     */
    public record Token(String text, int position, boolean scored, double nllBefore,
            double nllAfter, String topBefore, String topAfter, boolean rightBefore,
            boolean rightAfter) {

        /** @return NLL after - before (NaN when not scored) */
        public double change() {
            return nllAfter - nllBefore;
        }
    }

    /** Copies the list. */
    public Passage {
        tokens = List.copyOf(tokens);
    }

    /** @return mean change of its scored tokens' NLL */
    public double meanChange() {
        return meanAfter - meanBefore;
    }

    /** @return how many of its tokens are scored */
    public long scored() {
        return tokens.stream().filter(Token::scored).count();
    }
}
