package dev.retain.core.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;
import dev.retain.core.util.RepoPaths;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

/** Token corpora: caching, rebuilding, the binary format, and bad text. */
class DomainTest {

    static GptTokenizer tok;

    @TempDir Path tmp;

    @BeforeAll
    static void load() {
        tok = GptTokenizer.load(RepoPaths.resolve("datasets/tokenizers/gpt2/tokenizer.json"));
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    private Domain domain(String test) throws IOException {
        Path d = tmp.resolve("dom");
        Files.createDirectories(d);
        Files.writeString(d.resolve("train.txt"), "train text");
        Files.writeString(d.resolve("valid.txt"), "valid text");
        Files.writeString(d.resolve("test.txt"), test);
        return Domain.of(d);
    }

    @Test
    void documentsAreJoinedWithEndOfText() throws IOException {
        TokenFile tf = domain("Hello world<|endoftext|>Hello world").tokens(Split.TEST, tok);
        assertEquals(5, tf.size());
        int[] expected = {15496, 995, 50256, 15496, 995};
        for (int i = 0; i < 5; i++) {
            assertEquals(expected[i], tf.get(i));
        }
        assertEquals(2, tf.width(), "GPT-2's 50,257 ids fit in uint16");
    }

    @Test
    void cacheIsReusedAndRebuiltWhenTextChanges() throws IOException {
        Domain d = domain("Hello world");
        TokenFile first = d.tokens(Split.TEST, tok);
        Path cache = first.path();
        Files.setLastModifiedTime(cache, FileTime.fromMillis(1000));
        d.tokens(Split.TEST, tok);
        assertEquals(1000, Files.getLastModifiedTime(cache).toMillis(), "cache reused, not rewritten");
        Files.writeString(d.textFile(Split.TEST), "Hello world Hello");
        TokenFile second = d.tokens(Split.TEST, tok);
        assertEquals(3, second.size());
        assertNotEquals(first.sourceHash(), second.sourceHash());
    }

    @Test
    void corruptCacheIsRebuilt() throws IOException {
        Domain d = domain("Hello world");
        Path cache = d.tokens(Split.TEST, tok).path();
        Files.write(cache, new byte[] {1, 2, 3});
        assertEquals(2, d.tokens(Split.TEST, tok).size());
    }

    @Test
    void wideVocabulariesUseInt32() throws IOException {
        Path f = tmp.resolve("wide.tok");
        TokenFile.write(f, new int[] {70000, 3, 65536}, 100_000, "a", "b");
        TokenFile tf = TokenFile.openOrNull(f);
        assertEquals(4, tf.width());
        assertEquals(70000, tf.get(0));
        assertEquals(65536, tf.get(2));
    }

    @Test
    void emptySplitIsAUserError() throws IOException {
        UserError e = assertThrows(UserError.class, () -> domain("").tokens(Split.TEST, tok));
        assertTrue(e.getMessage().contains("test.txt") && e.getMessage().contains("empty"),
                e.getMessage());
    }

    @Test
    void missingSplitIsAUserError() throws IOException {
        Domain d = domain("x y");
        Files.delete(d.textFile(Split.TRAIN));
        UserError e = assertThrows(UserError.class, () -> d.tokens(Split.TRAIN, tok));
        assertTrue(e.getMessage().contains("train.txt") && e.getMessage().contains("missing"),
                e.getMessage());
    }

    @Test
    void missingFolderIsAUserError() {
        UserError e = assertThrows(UserError.class, () -> Domain.of(tmp.resolve("nope")));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
    }

    @Test
    void nonUtf8BytesAreLocated() throws IOException {
        Domain d = domain("ok");
        byte[] bytes = "line one\nab\u00e9c".getBytes(StandardCharsets.ISO_8859_1);
        Files.write(d.textFile(Split.TEST), bytes);
        UserError e = assertThrows(UserError.class, () -> d.tokens(Split.TEST, tok));
        assertTrue(e.getMessage().contains("line 2, column 3"), e.getMessage());
        assertTrue(e.getMessage().contains("byte offset 11"), e.getMessage());
    }
}
