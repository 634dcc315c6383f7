package dev.retain.core.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.retain.core.util.RepoPaths;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Our tokenizer against the reference GPT-2 BPE: ids made by OpenAI's algorithm as ported in the
 * npm package gpt-3-encoder ({@code tools/gpt2_reference_ids.js}), committed as uint16 files.
 */
class TokenizerTest {

    static GptTokenizer tok;

    @BeforeAll
    static void load() {
        tok = GptTokenizer.load(RepoPaths.resolve("datasets/tokenizers/gpt2/tokenizer.json"));
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    static int[] referenceIds(String file) throws IOException {
        byte[] b = Files.readAllBytes(RepoPaths.resolve("datasets/tokenizers/gpt2/reference-ids",
                file));
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int[] ids = new int[b.length / 2];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = Short.toUnsignedInt(bb.getShort());
        }
        return ids;
    }

    @Test
    void helloWorld() {
        assertArrayEquals(new long[] {15496, 995}, tok.encode("Hello world"));
        assertEquals(50257, tok.vocabSize());
        assertEquals(50256, tok.eosId());
    }

    @Test
    void longTextIsNotTruncated() {
        String text = "word" + " word".repeat(2999); // "word", then 2,999 " word" tokens
        assertEquals(3000, tok.encode(text).length);
    }

    @Test
    void trickySampleMatchesReference() throws IOException {
        String text = Files.readString(RepoPaths.resolve(
                "datasets/tokenizers/gpt2/reference-ids/sample.txt"), StandardCharsets.UTF_8);
        assertArrayEquals(referenceIds("sample.u16"), Domain.tokenize(text, tok));
    }

    @ParameterizedTest
    @ValueSource(strings = {"computing", "legal", "code", "scripture"})
    void domainTestSplitMatchesReference(String domain) throws IOException {
        Domain d = Domain.of(RepoPaths.resolve("datasets/domains", domain));
        TokenFile tf = d.tokens(Split.TEST, tok);
        int[] ref = referenceIds(domain + "-test.u16");
        assertEquals(ref.length, tf.size(), "token count");
        for (int i = 0; i < ref.length; i++) {
            if (ref[i] != tf.get(i)) {
                assertEquals(ref[i], tf.get(i), "first difference at token " + i);
            }
        }
    }
}
