package dev.retain.core.text;

import dev.retain.core.Engines;
import dev.retain.core.UserError;
import dev.retain.core.util.Hashing;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A byte-level BPE tokenizer read from a Hugging Face {@code tokenizer.json}, set up for corpora:
 * no truncation (DJL's default cuts at 512 tokens), no padding, no added special tokens, and
 * {@code <|endoftext|>} as the end-of-document token.
 */
public final class GptTokenizer implements AutoCloseable {

    /** The literal that separates documents in a domain's text files. */
    public static final String EOS_TEXT = "<|endoftext|>";

    private final Path file;
    private final HuggingFaceTokenizer tokenizer;
    private final int vocabSize;
    private final int eosId;
    private final String fingerprint;

    private GptTokenizer(
            Path file, HuggingFaceTokenizer tokenizer, int vocabSize, int eosId, String fp) {
        this.file = file;
        this.tokenizer = tokenizer;
        this.vocabSize = vocabSize;
        this.eosId = eosId;
        this.fingerprint = fp;
    }

    /**
     * Loads a {@code tokenizer.json}.
     *
     * @param file the file (or a folder holding {@code tokenizer.json})
     * @return the tokenizer
     */
    public static GptTokenizer load(Path file) {
        Path f = Files.isDirectory(file) ? file.resolve("tokenizer.json") : file;
        if (!Files.isRegularFile(f)) {
            throw new UserError(f + ": tokenizer file not found; give the path of a Hugging Face"
                    + " tokenizer.json (for GPT-2: datasets/tokenizers/gpt2/tokenizer.json)");
        }
        byte[] bytes;
        JsonNode root;
        try {
            bytes = Files.readAllBytes(f);
            root = new ObjectMapper().readTree(bytes);
        } catch (IOException e) {
            throw new UserError(f + ": not a readable tokenizer.json (" + Engines.firstLine(e)
                    + ")", e);
        }
        JsonNode vocab = root == null ? null : root.path("model").get("vocab");
        if (vocab == null || !vocab.isObject()) {
            throw new UserError(f + ": no model.vocab object; expected a Hugging Face"
                    + " tokenizer.json of a BPE model");
        }
        int maxId = -1;
        Integer eos = null;
        for (var it = vocab.fields(); it.hasNext(); ) {
            var e = it.next();
            maxId = Math.max(maxId, e.getValue().asInt());
            if (e.getKey().equals(EOS_TEXT)) {
                eos = e.getValue().asInt();
            }
        }
        for (JsonNode t : root.path("added_tokens")) {
            int id = t.path("id").asInt(-1);
            maxId = Math.max(maxId, id);
            if (EOS_TEXT.equals(t.path("content").asText())) {
                eos = id;
            }
        }
        if (eos == null) {
            throw new UserError(f + ": the vocabulary has no " + EOS_TEXT + " token; retain"
                    + " separates documents with it (GPT-2 id 50256)");
        }
        Engines.configure();
        HuggingFaceTokenizer hf;
        try {
            hf = HuggingFaceTokenizer.newInstance(f, Map.of(
                    "addSpecialTokens", "false",
                    "truncation", "false",
                    "padding", "false",
                    "addPrefixSpace", "false",
                    "stripAccents", "false",
                    "doLowerCase", "false"));
        } catch (IOException | RuntimeException e) {
            throw new UserError(f + ": the tokenizers library rejected the file ("
                    + Engines.firstLine(e) + ")", e);
        }
        return new GptTokenizer(f, hf, maxId + 1, eos, Hashing.sha256(bytes));
    }

    /**
     * Encodes one document (text without {@code <|endoftext|>}).
     *
     * @param text the document
     * @return its token ids
     */
    public long[] encode(String text) {
        return tokenizer.encode(text, false, false).getIds();
    }

    /**
     * Decodes ids back to text.
     *
     * @param ids token ids
     * @return the text
     */
    public String decode(long[] ids) {
        return tokenizer.decode(ids, false);
    }

    /** @return the vocabulary size (largest id + 1, added tokens included) */
    public int vocabSize() {
        return vocabSize;
    }

    /** @return the id of {@code <|endoftext|>} */
    public int eosId() {
        return eosId;
    }

    /** @return SHA-256 of the tokenizer.json bytes */
    public String fingerprint() {
        return fingerprint;
    }

    /** @return the tokenizer.json path */
    public Path file() {
        return file;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
