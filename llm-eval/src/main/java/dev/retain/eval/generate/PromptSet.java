package dev.retain.eval.generate;

import dev.retain.core.model.CausalLm;
import dev.retain.core.text.GptTokenizer;
import dev.retain.eval.results.Generations;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A run's prompts ({@code --prompts}) and how they are continued: after the base evaluation and
 * after every stage, each prompt by the model as it is then ({@link Generator}); prompt {@code i}
 * is sampled with the seed plus {@code i}, so each prompt draws on its own and every stage draws
 * the same way.
 *
 * @param prompts the prompts
 * @param sampling greedy or sampled
 * @param maxNewTokens the most tokens a continuation adds
 */
public record PromptSet(List<String> prompts, Sampling sampling, int maxNewTokens) {

    /** Copies the list. */
    public PromptSet {
        prompts = List.copyOf(prompts);
    }

    /**
     * Continues every prompt.
     *
     * @param lm the model as it is now
     * @param tok its tokenizer
     * @param row the results row (0 = base model)
     * @param label the row's label
     * @return the continuations
     */
    public Generations.Row continueAll(CausalLm lm, GptTokenizer tok, int row, String label) {
        List<String> texts = new ArrayList<>();
        List<int[]> ids = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            int[] made = Generator.generate(lm, tok.encode(prompts.get(i)), maxNewTokens,
                    sampling.offset(i), tok.eosId());
            ids.add(made);
            texts.add(tok.decode(Arrays.stream(made).asLongStream().toArray()));
        }
        return new Generations.Row(row, label, texts, ids);
    }
}
