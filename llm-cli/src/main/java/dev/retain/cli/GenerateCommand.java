package dev.retain.cli;

import dev.retain.core.model.CausalLm;
import dev.retain.core.text.GptTokenizer;
import dev.retain.core.util.Json;
import dev.retain.core.util.OutputPaths;
import dev.retain.eval.generate.Generator;
import dev.retain.eval.generate.Sampling;
import dev.retain.train.config.CommonKeys;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;
import dev.retain.train.lifecycle.StagePrompts;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.commons.cli.CommandLine;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * {@code retain generate}: one model's continuation of one prompt, made as a run's {@code
 * --prompts} are (the same keys, {@link StagePrompts}).
 */
final class GenerateCommand implements Command {

    private static final Key<String> PROMPT = Key.text("prompt", null, "the text to continue"
            + " (\"\" starts from <|endoftext|>)").metavar("TEXT").mandatory();
    private static final Key<Long> SEED = CommonKeys.SEED.help("with --sample: seeds the draws"
            + " (the same seed repeats the same continuation)");
    private static final Key<Path> JSON = Key.path("json", "FILE", "also write the prompt's and"
            + " the continuation's token ids and text as JSON");

    private static final KeyTable KEYS = new KeyTable(Inputs.MODEL_KEYS).plus(List.of(PROMPT,
            SEED, JSON, StagePrompts.MAX_NEW_TOKENS, StagePrompts.SAMPLE, StagePrompts.TOP_K,
            StagePrompts.TOP_P, StagePrompts.TEMPERATURE));

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
                + " top-p. Prints the prompt followed by the continuation (docs/FORGETTING.md).";
    }

    @Override
    public KeyTable keys() {
        return KEYS;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        Settings v = Opts.values(KEYS, cl);
        if (v.has(JSON)) {
            OutputPaths.file(v.get(JSON), "--json");
        }
        Sampling sampling = StagePrompts.sampling(v, v.get(SEED));
        String prompt = v.get(PROMPT);
        try (CausalLm lm = Inputs.model(v); GptTokenizer tok = Inputs.tokenizer(v, lm)) {
            long[] ids = tok.encode(prompt);
            int[] made = Generator.generate(lm, ids, v.get(StagePrompts.MAX_NEW_TOKENS),
                    sampling, tok.eosId());
            String text = tok.decode(Arrays.stream(made).asLongStream().toArray());
            out.println(prompt + text);
            if (v.has(JSON)) {
                ObjectNode root = Json.object();
                root.put("schema", "retain.generate/1");
                root.put("model", lm.source().toString());
                root.put("sampling", sampling.describe());
                root.put("prompt", prompt);
                root.putPOJO("prompt_ids", ids);
                root.putPOJO("ids", made);
                root.put("continuation", text);
                Json.write(v.get(JSON), root);
            }
        }
        return 0;
    }
}
