package dev.retain.eval.forgotten;

import dev.retain.core.util.AtomicFiles;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;

/**
 * Every compared token of a domain as JSON Lines, for programs: one object a line, in window and
 * position order, with {@code domain}, {@code window} (index of the window, 0 = the split's
 * first), {@code window_start} (its offset in the split's token stream), {@code position} (in
 * the window), {@code token_id}, {@code token} (its text), {@code nll_before}, {@code nll_after}
 * (nats: the float32 values the evaluator summed, written as doubles so that they parse back
 * exactly), {@code right_before}, {@code right_after}
 * (whether the model's top prediction was the token), {@code top_before}, {@code top_after} (the
 * ids of the top predictions). The mean of {@code nll_after - nll_before} over the lines is the
 * change of the domain's mean NLL when every evaluated window was kept.
 */
public final class TokenLines {

    private TokenLines() {}

    /**
     * Writes the file atomically.
     *
     * @param file the target ({@code .jsonl})
     * @param before the first model's detail of the domain
     * @param after the second's (the same windows)
     * @param text token texts
     * @return lines written
     * @throws IOException when writing fails
     */
    public static long write(Path file, DomainDetail before, DomainDetail after, TokenText text)
            throws IOException {
        long[] lines = {0};
        AtomicFiles.write(file, os -> lines[0] = write(os, before, after, text));
        return lines[0];
    }

    private static long write(OutputStream os, DomainDetail before, DomainDetail after,
            TokenText text) throws IOException {
        JsonFactory f = new JsonFactory();
        long lines = 0;
        int n = Math.min(before.windows().size(), after.windows().size());
        try (JsonGenerator g = f.createGenerator(os)) {
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            g.setRootValueSeparator(null);
            for (int w = 0; w < n; w++) {
                WindowDetail b = before.windows().get(w);
                WindowDetail a = after.windows().get(w);
                for (int i = 0; i < b.scored(); i++) {
                    g.writeStartObject();
                    g.writeStringField("domain", before.domain());
                    g.writeNumberField("window", w);
                    g.writeNumberField("window_start", b.start());
                    g.writeNumberField("position", b.firstScored() + i);
                    g.writeNumberField("token_id", b.target(i));
                    g.writeStringField("token", text.token(b.target(i)));
                    g.writeNumberField("nll_before", (double) b.nll()[i]);
                    g.writeNumberField("nll_after", (double) a.nll()[i]);
                    g.writeBooleanField("right_before", b.right(i));
                    g.writeBooleanField("right_after", a.right(i));
                    g.writeNumberField("top_before", b.argmax()[i]);
                    g.writeNumberField("top_after", a.argmax()[i]);
                    g.writeEndObject();
                    g.writeRaw('\n');
                    lines++;
                }
            }
        }
        return lines;
    }
}
