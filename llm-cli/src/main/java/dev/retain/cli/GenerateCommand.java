package dev.retain.cli;

import dev.retain.core.model.CausalLm;
import dev.retain.core.text.GptTokenizer;
import dev.retain.core.util.Json;
import dev.retain.core.util.OutputPaths;
import dev.retain.eval.generate.Generator;
import dev.retain.eval.generate.Sampling;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.commons.cli.CommandLine;

import java.io.PrintStream;
import java.util.List;

/** {@code retain generate}: one model's continuation of one prompt. */
final class GenerateCommand implements Command {

    /**
     * How continuations are made: the same keys here and on train/run ({@code --prompts}).
     */
    static final List<Key> SAMPLING_KEYS = List.of(
            Key.integer("max-new-tokens", 40, 1, "tokens", "the most tokens a continuation"
                    + " adds (it stops earlier at <|endoftext|>)"),
            Key.flag("sample", "sample each token (top-k, top-p, temperature, seed) instead of"
                    + " taking the most likely (greedy, the default)"),
            Key.integer("top-k", 40, 0, "tokens", "with --sample: draw among this many most"
                    + " likely tokens, 0 = all"),
            Key.real("top-p", 1.0, 0, true, "with --sample: draw among the most likely"
                    + " tokens up to this much probability, 1 = all"),
            Key.real("temperature", 1.0, 0, true, "with --sample: divides the logits"));

    private static final KeyTable KEYS = new KeyTable(ModelArgs.KEYS).plus(List.of(
            Key.text("prompt", null, "the text to continue (\"\" starts from <|endoftext|>)")
                    .metavar("TEXT").mandatory(),
            Key.longInteger("seed", 1, Long.MIN_VALUE, "", "with --sample: seeds the draws (the"
                    + " same seed repeats the same continuation)"),
            Key.path("json", "FILE", "also write the prompt's and the continuation's token ids"
                    + " and text as JSON"))).plus(SAMPLING_KEYS);

    @Override
    public String name() {
        return "generate";
    }

    @Override
    public String usage() {
        return "generate --model M.pt --prompt TEXT [--max-new-tokens N] [--sample --seed S]";
    }

    @Override
    public String summary() {
        return "a model's continuation of a prompt (greedy, or sampled with a seed)";
    }

    @Override
    public String footer() {
        return "Each step runs the model on the prompt and the tokens so far (their last"
                + " context-length tokens) and takes the last position's most likely token, or"
                + " with --sample draws one from softmax(logits / temperature) cut to top-k, then"
                + " top-p. Prints the prompt followed by the continuation.";
    }

    @Override
    public KeyTable keys() {
        return KEYS;
    }

    /**
     * @param v a command's values holding {@link #SAMPLING_KEYS} and {@code seed}
     * @return the sampling they ask for
     */
    static Sampling sampling(KeyTable.Values v) {
        return v.flag("sample") ? new Sampling(true, v.integer("top-k"), v.real("top-p"),
                v.real("temperature"), v.longInteger("seed")) : Sampling.GREEDY;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        KeyTable.Values v = Opts.values(KEYS, cl);
        if (v.has("json")) {
            OutputPaths.file(v.path("json"), "--json");
        }
        Sampling sampling = sampling(v);
        String prompt = v.text("prompt");
        try (CausalLm lm = ModelArgs.model(v); GptTokenizer tok = ModelArgs.tokenizer(v, lm)) {
            long[] ids = tok.encode(prompt);
            int[] made = Generator.generate(lm, ids, v.integer("max-new-tokens"), sampling,
                    tok.eosId());
            String text = tok.decode(java.util.Arrays.stream(made).asLongStream().toArray());
            out.println(prompt + text);
            if (v.has("json")) {
                ObjectNode root = Json.object();
                root.put("schema", "retain.generate/1");
                root.put("model", lm.source().toString());
                root.put("sampling", sampling.describe());
                root.put("prompt", prompt);
                root.putPOJO("prompt_ids", ids);
                root.putPOJO("ids", made);
                root.put("continuation", text);
                Json.write(v.path("json"), root);
            }
        }
        return 0;
    }
}
