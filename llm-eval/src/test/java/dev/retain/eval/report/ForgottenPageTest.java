package dev.retain.eval.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.text.GptTokenizer;
import dev.retain.core.util.RepoPaths;
import dev.retain.eval.forgotten.CompareSettings;
import dev.retain.eval.forgotten.DomainDetail;
import dev.retain.eval.forgotten.ForgettingView;
import dev.retain.eval.forgotten.TokenDetail;
import dev.retain.eval.forgotten.TokenText;
import dev.retain.eval.forgotten.WindowDetail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The what-was-forgotten page with hostile text: a domain named {@code <script>...} whose
 * documents hold markup, an ampersand, a right-to-left override and Hebrew. In the HTML every
 * such character is a character reference or a visible code point, in the Markdown too; in real
 * headless Chromium the page loads with no console message and no request, and its DOM holds no
 * script element and shows the markup as text.
 */
class ForgottenPageTest {

    static final String HOSTILE = "<script>alert(1)</script> & \u202eevil\u202c שלום x";

    @TempDir Path tmp;

    /** A view of one domain whose windows are the hostile text, in micro-untied's bytes. */
    static ForgettingView hostileView() {
        Path file = RepoPaths.resolve("datasets", "models", "micro-untied", "tokenizer.json");
        int[] text;
        try (GptTokenizer tok = GptTokenizer.load(file)) {
            text = java.util.Arrays.stream(tok.encode(HOSTILE)).mapToInt(x -> (int) x).toArray();
        }
        Random r = new Random(3);
        List<WindowDetail> before = new ArrayList<>();
        List<WindowDetail> after = new ArrayList<>();
        for (int w = 0; w < 3; w++) {
            float[] nb = new float[text.length - 1];
            float[] na = new float[text.length - 1];
            int[] ta = new int[nb.length];
            int[] tb = new int[nb.length];
            for (int i = 0; i < nb.length; i++) {
                nb[i] = 3 * r.nextFloat();
                na[i] = nb[i] + (float) (w - 1 + 2 * r.nextGaussian());
                na[i] = Math.max(0, na[i]);
                tb[i] = r.nextBoolean() ? text[i + 1] : 0;
                ta[i] = r.nextBoolean() ? text[i + 1] : 1;
            }
            before.add(new WindowDetail((long) w * text.length, 1, text, nb, tb));
            after.add(new WindowDetail((long) w * text.length, 1, text, na, ta));
        }
        String name = ReportWriterTest.XSS;
        TokenDetail b = new TokenDetail("before.pt", "test", text.length, 257, List.of(
                new DomainDetail(name, 3, 3L * nbOf(text), 0, before)));
        TokenDetail a = new TokenDetail("after.pt", "test", text.length, 257, List.of(
                new DomainDetail(name, 3, 3L * nbOf(text), 0, after)));
        return ForgettingView.compare("before.pt -> after.pt", "before.pt", b, "after.pt", a,
                TokenText.load(file), CompareSettings.DEFAULT);
    }

    private static int nbOf(int[] text) {
        return text.length - 1;
    }

    @Test
    void hostileDomainTextIsEscapedInHtmlAndMarkdown() throws IOException {
        ForgottenWriter.write(hostileView(), tmp);
        String html = Files.readString(tmp.resolve(ForgottenWriter.HTML), StandardCharsets.UTF_8);
        assertFalse(html.toLowerCase(Locale.ROOT).contains("<script"), "no script element");
        assertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "markup as text");
        assertTrue(html.contains("&amp;"));
        assertFalse(html.contains("\u202e"), "no raw right-to-left override");
        assertTrue(html.contains("&lt;U+202E&gt;"), "the override shown by its code point");
        // micro-untied's tokens are bytes: each Hebrew letter (two bytes) is its own piece
        assertTrue("שלום".chars().allMatch(c -> html.contains(">" + (char) c + "<")),
                "Hebrew shown as it is");
        assertTrue(html.contains("class=\"s"), "tokens shaded");
        assertTrue(html.contains("dir=\"ltr\""));
        String md = Files.readString(tmp.resolve(ForgottenWriter.MARKDOWN),
                StandardCharsets.UTF_8);
        assertFalse(md.toLowerCase(Locale.ROOT).contains("<script"), md);
        assertFalse(md.contains("\u202e"));
        assertTrue(md.contains("&lt;U+202E&gt;"));
    }

    @Test
    void thePageOpensInChromiumWithoutScriptRequestOrConsoleMessage() throws Exception {
        ChromiumReportTest.requireChromium();
        ForgottenWriter.write(hostileView(), tmp);
        Path html = tmp.resolve(ForgottenWriter.HTML);
        ChromiumReportTest.Result r = ChromiumReportTest.check(html, tmp.resolve("shot.png"));
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().startsWith("OK: "), r.output());
        String dom = dumpDom(html);
        assertTrue(dom.contains("<body"), dom.length() > 400 ? dom.substring(0, 400) : dom);
        assertFalse(dom.toLowerCase(Locale.ROOT).contains("<script"), "no script element");
        assertTrue(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "markup shown as text");
        assertTrue(dom.contains("&lt;U+202E&gt;"), "the override shown as text");
        assertFalse(dom.contains("\u202e"));
        assertTrue(dom.contains("&amp;"));
    }

    /** The DOM after load, as headless Chromium serializes it. */
    static String dumpDom(Path html) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory("retain-dom");
        try {
            Process p = new ProcessBuilder("/usr/bin/chromium", "--headless", "--no-sandbox",
                    "--disable-gpu", "--no-first-run", "--disable-extensions",
                    "--user-data-dir=" + profile, "--dump-dom",
                    html.toAbsolutePath().toUri().toString())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            byte[] out = p.getInputStream().readAllBytes();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium --dump-dom finished");
            return new String(out, StandardCharsets.UTF_8);
        } finally {
            try (var s = Files.walk(profile)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
