package dev.retain.eval.forgotten;

import dev.retain.core.UserError;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What one domain lost and gained between two models, token by token: the same windows scored by
 * both ({@link DomainDetail}s of the same split and protocol), compared.
 *
 * <ul>
 *   <li><b>Forgetting events</b> (Toneva et al. 2019, per token): a token the first model ranked
 *       first ("right") and the second did not is <i>forgotten</i>; the reverse is
 *       <i>learned</i>.
 *   <li><b>Transitions</b> (as Rho-1 sorts tokens): each token is low or high loss under each
 *       model, low meaning NLL below {@link CompareSettings#threshold()}; low-&gt;high tokens are
 *       the ones the second model lost.
 *   <li><b>Tokens and words</b> whose summed NLL rose most (a word: a token starting with a
 *       space or punctuation and the letter or digit tokens glued to it).
 *   <li><b>Passages</b> (windows, or a document's part of a window where a document ends inside
 *       it) whose mean NLL rose most and fell most.
 * </ul>
 *
 * @param domain the domain
 * @param windows windows compared
 * @param tokens scored tokens compared
 * @param nllBefore their summed NLL under the first model
 * @param nllAfter the same under the second
 * @param complete whether both details hold every window their evaluation scored, so that the
 *     mean change here equals the change of the domain's mean NLL
 * @param rightRight tokens right under both models
 * @param forgotten right before, wrong after
 * @param learned wrong before, right after
 * @param wrongWrong wrong under both
 * @param lowLow low loss under both (see the threshold)
 * @param lowHigh low before, high after
 * @param highLow high before, low after
 * @param highHigh high under both
 * @param forgottenTokens the tokens most often forgotten, with their count (in {@code count})
 * @param learnedTokens the tokens most often learned
 * @param tokensRose the tokens whose summed NLL rose most
 * @param wordsRose the words whose summed NLL rose most
 * @param histogram per-token change
 * @param rose the passages whose mean NLL rose most, most first
 * @param fell the passages whose mean NLL fell most, most first
 * @param settings the settings used
 */
public record DomainComparison(String domain, int windows, long tokens, double nllBefore,
        double nllAfter, boolean complete, long rightRight, long forgotten, long learned,
        long wrongWrong, long lowLow, long lowHigh, long highLow, long highHigh,
        List<TokenStat> forgottenTokens, List<TokenStat> learnedTokens,
        List<TokenStat> tokensRose, List<TokenStat> wordsRose, Histogram histogram,
        List<Passage> rose, List<Passage> fell, CompareSettings settings) {

    /** @return mean NLL before, nats per token */
    public double meanBefore() {
        return nllBefore / tokens;
    }

    /** @return mean NLL after */
    public double meanAfter() {
        return nllAfter / tokens;
    }

    /** @return mean change per token (= change of the mean) */
    public double meanChange() {
        return meanAfter() - meanBefore();
    }

    /**
     * Compares two models' detail of one domain.
     *
     * @param before the first model's (right after learning the domain, say)
     * @param after the second's (the final model)
     * @param text token texts
     * @param settings what to show
     * @return the comparison
     * @throws UserError when the two did not score the same windows
     */
    public static DomainComparison of(DomainDetail before, DomainDetail after, TokenText text,
            CompareSettings settings) {
        int n = Math.min(before.windows().size(), after.windows().size());
        if (n == 0) {
            throw new UserError(before.domain() + ": no windows with token detail to compare");
        }
        Counter c = new Counter(settings.threshold());
        List<Passage> passages = new ArrayList<>();
        for (int w = 0; w < n; w++) {
            WindowDetail b = before.windows().get(w);
            WindowDetail a = after.windows().get(w);
            if (!b.sameWindow(a)) {
                throw new UserError(before.domain() + ": window " + w + " differs between the two"
                        + " token-detail sets (start " + b.start() + " vs " + a.start() + ");"
                        + " they must come from the same split, window length and tokenizer");
            }
            c.window(b, a, text);
            passages.addAll(Passages.of(w, b, a, text, settings.minPassageTokens()));
        }
        boolean complete = before.complete() && after.complete()
                && n == before.windowsEvaluated() && n == after.windowsEvaluated();
        List<Passage> rose = passages.stream().filter(p -> p.meanChange() > 0)
                .sorted(Comparator.comparingDouble(Passage::meanChange).reversed())
                .limit(settings.passages()).toList();
        List<Passage> fell = passages.stream().filter(p -> p.meanChange() < 0)
                .sorted(Comparator.comparingDouble(Passage::meanChange))
                .limit(settings.passages()).toList();
        int top = settings.top();
        return new DomainComparison(before.domain(), n, c.tokens, c.sumBefore, c.sumAfter,
                complete, c.rr, c.rw, c.wr, c.ww, c.ll, c.lh, c.hl, c.hh,
                mostFrequent(c.forgottenIds, text, top), mostFrequent(c.learnedIds, text, top),
                roseMost(c.byToken.values(), top), roseMost(c.byWord.values(), top),
                c.histogram, rose, fell, settings);
    }

    private static List<TokenStat> mostFrequent(Map<Integer, Long> counts, TokenText text,
            int top) {
        return counts.entrySet().stream()
                .sorted(Map.Entry.<Integer, Long>comparingByValue().reversed()
                        .thenComparing(Map.Entry.comparingByKey()))
                .limit(top).map(e -> new TokenStat(text.token(e.getKey()), e.getKey(),
                        e.getValue(), 0, 0)).toList();
    }

    private static List<TokenStat> roseMost(java.util.Collection<Acc> all, int top) {
        return all.stream().map(Acc::stat)
                .filter(s -> s.sumChange() > 0)
                .sorted(Comparator.comparingDouble(TokenStat::sumChange).reversed()
                        .thenComparing(TokenStat::text))
                .limit(top).toList();
    }

    /** Sums of one token's or word's occurrences. */
    private static final class Acc {
        final String text;
        final int id;
        long count;
        double before;
        double after;

        Acc(String text, int id) {
            this.text = text;
            this.id = id;
        }

        TokenStat stat() {
            return new TokenStat(text, id, count, before, after);
        }
    }

    /** Counts and sums over every compared token. */
    private static final class Counter {
        final double threshold;
        long tokens;
        double sumBefore;
        double sumAfter;
        long rr;
        long rw;
        long wr;
        long ww;
        long ll;
        long lh;
        long hl;
        long hh;
        final Map<Integer, Long> forgottenIds = new HashMap<>();
        final Map<Integer, Long> learnedIds = new HashMap<>();
        final Map<Integer, Acc> byToken = new HashMap<>();
        final Map<String, Acc> byWord = new HashMap<>();
        final Histogram histogram = Histogram.empty();

        Counter(double threshold) {
            this.threshold = threshold;
        }

        void window(WindowDetail b, WindowDetail a, TokenText text) {
            for (int i = 0; i < b.scored(); i++) {
                double nb = b.nll()[i];
                double na = a.nll()[i];
                tokens++;
                sumBefore += nb;
                sumAfter += na;
                histogram.add(na - nb);
                boolean rb = b.right(i);
                boolean ra = a.right(i);
                int id = b.target(i);
                if (rb && ra) {
                    rr++;
                } else if (rb) {
                    rw++;
                    forgottenIds.merge(id, 1L, Long::sum);
                } else if (ra) {
                    wr++;
                    learnedIds.merge(id, 1L, Long::sum);
                } else {
                    ww++;
                }
                boolean lb = nb < threshold;
                boolean la = na < threshold;
                if (lb && la) {
                    ll++;
                } else if (lb) {
                    lh++;
                } else if (la) {
                    hl++;
                } else {
                    hh++;
                }
                Acc t = byToken.computeIfAbsent(id, k -> new Acc(text.token(k), k));
                t.count++;
                t.before += nb;
                t.after += na;
            }
            for (Words.Word w : Words.of(b, text)) {
                Acc acc = byWord.computeIfAbsent(w.text(), k -> new Acc(k, -1));
                acc.count++;
                for (int i = w.from(); i < w.to(); i++) {
                    acc.before += b.nll()[i];
                    acc.after += a.nll()[i];
                }
            }
        }
    }
}
