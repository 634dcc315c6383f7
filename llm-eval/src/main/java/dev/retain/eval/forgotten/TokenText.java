package dev.retain.eval.forgotten;

import dev.retain.core.UserError;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

/**
 * The text of token ids, for showing passages token by token: each id's bytes, read from a
 * byte-level BPE {@code tokenizer.json} (GPT-2's, and every tokenizer retain ships), so that a
 * passage's text can be cut exactly at token boundaries. A character whose UTF-8 bytes are split
 * over several tokens belongs to the token holding its first byte; bytes that are not UTF-8 show
 * as U+FFFD. Without a tokenizer ({@link #idsOnly()}) a token shows as {@code #id}.
 */
public final class TokenText {

    private static final String EOS = "<|endoftext|>";

    private final byte[][] bytes;
    private final int eos;

    private TokenText(byte[][] bytes, int eos) {
        this.bytes = bytes;
        this.eos = eos;
    }

    /**
     * Texts that are the ids themselves ({@code #464}), when no tokenizer is at hand.
     *
     * @param eos the end-of-text id, or -1
     * @return the texts
     */
    public static TokenText idsOnly(int eos) {
        return new TokenText(null, eos);
    }

    /** @return the id of {@code <|endoftext|>}, which ends a document; -1 when unknown */
    public int eos() {
        return eos;
    }

    /**
     * Reads the vocabulary of a byte-level BPE {@code tokenizer.json} (its {@code model.vocab}
     * and {@code added_tokens}).
     *
     * @param file the tokenizer.json, or a folder holding one
     * @return the texts
     * @throws UserError when the file is missing or not such a tokenizer
     */
    public static TokenText load(Path file) {
        Path f = Files.isDirectory(file) ? file.resolve("tokenizer.json") : file;
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(f.toFile());
        } catch (IOException e) {
            throw new UserError(f + ": cannot read the tokenizer (" + e.getMessage() + ")", e);
        }
        JsonNode vocab = root == null ? null : root.path("model").get("vocab");
        if (vocab == null || !vocab.isObject()) {
            throw new UserError(f + ": no model.vocab object; expected a Hugging Face"
                    + " tokenizer.json of a byte-level BPE model");
        }
        int max = -1;
        for (JsonNode id : vocab) {
            max = Math.max(max, id.asInt());
        }
        for (JsonNode t : root.path("added_tokens")) {
            max = Math.max(max, t.path("id").asInt());
        }
        int[] byteOf = unicodeToByte();
        byte[][] table = new byte[max + 1][];
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            String sym = e.getKey();
            byte[] b = new byte[sym.length()];
            boolean byteLevel = true;
            for (int i = 0; i < sym.length(); i++) {
                char c = sym.charAt(i);
                if (c >= byteOf.length || byteOf[c] < 0) {
                    byteLevel = false;
                    break;
                }
                b[i] = (byte) byteOf[c];
            }
            table[e.getValue().asInt()] = byteLevel ? b : sym.getBytes(StandardCharsets.UTF_8);
        }
        int eos = vocab.path(EOS).asInt(-1);
        for (JsonNode t : root.path("added_tokens")) {
            table[t.path("id").asInt()] = t.path("content").asText()
                    .getBytes(StandardCharsets.UTF_8);
            if (EOS.equals(t.path("content").asText())) {
                eos = t.path("id").asInt();
            }
        }
        return new TokenText(table, eos);
    }

    /**
     * GPT-2's map from byte to printable character, inverted: printable Latin-1 bytes stand for
     * themselves, the other 68 bytes for characters 256 and up, in byte order.
     */
    private static int[] unicodeToByte() {
        int[] inv = new int[512];
        java.util.Arrays.fill(inv, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC)
                    || (b >= 0xAE && b <= 0xFF);
            if (printable) {
                inv[b] = b;
            } else {
                inv[256 + n++] = b;
            }
        }
        return inv;
    }

    /**
     * @param id a token id
     * @return its text on its own (a partial UTF-8 character shows as U+FFFD)
     */
    public String token(int id) {
        if (bytes == null || id < 0 || id >= bytes.length || bytes[id] == null) {
            return "#" + id;
        }
        return new String(bytes[id], StandardCharsets.UTF_8);
    }

    /**
     * Cuts the text of a token sequence at token boundaries.
     *
     * @param ids the tokens
     * @return one string per token, concatenating to the sequence's text
     */
    public String[] pieces(int[] ids) {
        String[] out = new String[ids.length];
        if (bytes == null) {
            for (int i = 0; i < ids.length; i++) {
                out[i] = token(ids[i]);
            }
            return out;
        }
        // All bytes in a row, and which token each byte came from.
        int total = 0;
        for (int id : ids) {
            total += known(id) ? bytes[id].length : token(id).length();
        }
        byte[] all = new byte[total];
        int[] owner = new int[total];
        int at = 0;
        for (int i = 0; i < ids.length; i++) {
            byte[] b = known(ids[i]) ? bytes[ids[i]]
                    : token(ids[i]).getBytes(StandardCharsets.UTF_8);
            System.arraycopy(b, 0, all, at, b.length);
            java.util.Arrays.fill(owner, at, at + b.length, i);
            at += b.length;
        }
        StringBuilder[] sb = new StringBuilder[ids.length];
        for (int i = 0; i < ids.length; i++) {
            sb[i] = new StringBuilder();
        }
        int i = 0;
        while (i < total) {
            int len = sequenceLength(all, i);
            if (len == 0) {
                sb[owner[i]].append('\uFFFD');
                i++;
            } else {
                sb[owner[i]].append(new String(all, i, len, StandardCharsets.UTF_8));
                i += len;
            }
        }
        for (int k = 0; k < ids.length; k++) {
            out[k] = sb[k].toString();
        }
        return out;
    }

    private boolean known(int id) {
        return id >= 0 && id < bytes.length && bytes[id] != null;
    }

    /** @return the length of the well-formed UTF-8 sequence at {@code i}, 0 when there is none */
    static int sequenceLength(byte[] b, int i) {
        int lead = b[i] & 0xff;
        int n;
        int min;
        if (lead < 0x80) {
            return 1;
        } else if (lead >= 0xC2 && lead <= 0xDF) {
            n = 2;
            min = 0x80;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            n = 3;
            min = 0x800;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            n = 4;
            min = 0x10000;
        } else {
            return 0;
        }
        if (i + n > b.length) {
            return 0;
        }
        int cp = lead & (0xff >> (n + 1));
        for (int k = 1; k < n; k++) {
            int c = b[i + k] & 0xff;
            if ((c & 0xC0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (c & 0x3f);
        }
        boolean surrogate = cp >= 0xD800 && cp <= 0xDFFF;
        return cp < min || cp > 0x10FFFF || surrogate ? 0 : n;
    }
}
