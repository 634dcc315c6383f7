package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.util.RepoPaths;

import org.apache.commons.cli.Option;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * README.md and the guides in docs/ name only commands and flags that exist, and link only to
 * files and headings that exist. Which {@code --flags} are retain's and what each is checked
 * against is {@link DocsCheck}'s rule: the flags of a line that runs {@code retain COMMAND} (or
 * {@code bin/retain COMMAND}), in a code block or an inline code span, must be that command's
 * (the same {@link Command#options()} and {@link Command#keys()} aliases that make its {@code
 * --help}); a flag written about retain elsewhere (prose, a span that starts with {@code --}, a
 * shell comment) must be some command's; another program's command lines ({@code mvn -B},
 * {@code python3 ... --out}, {@code sbatch --array}) are not checked.
 */
class DocsTest {

    /**
     * Guides that other branches add and this one already links to: a link to one of them is
     * allowed before the file exists. Remove each once its file is merged.
     */
    static final Set<String> PENDING = Set.of();

    /**
     * Commands that other branches add and the guides already name (their flags are not checked
     * until then). Remove each once its command is merged.
     */
    static final Set<String> PENDING_COMMANDS = Set.of();

    /** Flags a document names on purpose although no command has them. */
    static final Map<String, Set<String>> HYPOTHETICAL = Map.of(
            // the example of adding a setting: the diff that would add it
            "docs/ARCHITECTURE.md", Set.of("fisher-cap"),
            // the stream trainer of issue #28, the step after the detector: not built yet
            "docs/STREAM.md", Set.of("stream"));

    /** Each command's flags as its --help lists them: the options and their aliases. */
    static Map<String, Set<String>> commandFlags() {
        Map<String, Set<String>> m = new LinkedHashMap<>();
        for (Command c : Main.commands().values()) {
            Set<String> s = new LinkedHashSet<>();
            for (Option o : c.options().getOptions()) {
                s.add(o.getLongOpt());
            }
            s.addAll(c.keys().aliases().keySet());
            m.put(c.name(), s);
        }
        return m;
    }

    static Path root() {
        return RepoPaths.resolve(".").normalize();
    }

    /** README.md and every Markdown file in docs/. */
    static List<Path> documents() throws IOException {
        List<Path> docs = new ArrayList<>(List.of(root().resolve("README.md")));
        try (Stream<Path> s = Files.list(root().resolve("docs"))) {
            s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
        }
        return docs;
    }

    static String name(Path doc) {
        return root().relativize(doc).toString().replace('\\', '/');
    }

    @Test
    void everyCommandAndFlagInTheDocsIsOneThatHelpLists() throws IOException {
        DocsCheck check = new DocsCheck(commandFlags(), HYPOTHETICAL, PENDING_COMMANDS);
        List<DocsCheck.Problem> problems = new ArrayList<>();
        for (Path doc : documents()) {
            problems.addAll(check.flags(name(doc), Files.readString(doc)));
        }
        assertEquals(List.of(), problems.stream().map(Object::toString).toList());
    }

    @Test
    void everyRelativeLinkInTheDocsFindsItsFileAndHeading() throws IOException {
        List<DocsCheck.Problem> problems = new ArrayList<>();
        for (Path doc : documents()) {
            problems.addAll(DocsCheck.links(root(), doc, Files.readString(doc), PENDING));
        }
        assertEquals(List.of(), problems.stream().map(Object::toString).toList());
        for (String p : PENDING) {
            assertTrue(Files.readString(root().resolve("README.md")).contains(
                    p.substring("docs/".length())), "README links " + p);
        }
    }

    /** The front door: every command in its table, and short. */
    @Test
    void readmeListsEveryCommandAndStaysShort() throws IOException {
        String readme = Files.readString(root().resolve("README.md"));
        for (String c : Main.commands().keySet()) {
            assertTrue(readme.contains("| `retain " + c), "README's command table lacks " + c);
        }
        long lines = readme.lines().count();
        assertTrue(lines <= 220, "README.md has " + lines + " lines; the manual goes in docs/");
    }

    /** What --help says to read (docs/X.md, 'Section') exists. */
    @Test
    void theGuidesThatHelpNamesExist() throws IOException {
        Pattern ref = Pattern.compile("(docs/[\\w.-]+\\.(?:md|json))(?:, '([^']+)')?");
        List<String> texts = new ArrayList<>(List.of(CliTest.run("--help").out()));
        for (String c : Main.commands().keySet()) {
            texts.add(CliTest.run(c, "--help").out().replaceAll("\\s+", " "));
        }
        int seen = 0;
        for (String t : texts) {
            Matcher m = ref.matcher(t);
            while (m.find()) {
                seen++;
                Path p = root().resolve(m.group(1));
                assertTrue(Files.exists(p), m.group());
                if (m.group(2) != null) {
                    String anchor = m.group(2).toLowerCase(java.util.Locale.ROOT)
                            .replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
                    assertTrue(DocsCheck.slugs(Files.readString(p)).contains(anchor), m.group());
                }
            }
            assertTrue(!t.contains("README,"), "help points into README's sections: " + t);
        }
        assertTrue(seen >= 3, "help names the guides");
    }

    // The checker itself, on small documents

    static DocsCheck small() {
        return new DocsCheck(Map.of("train", Set.of("model", "learning-rate", "lr"),
                "eval", Set.of("model", "seq-len", "window")), Map.of("x.md", Set.of("planned")),
                Set.of("later"));
    }

    @Test
    void aStaleFlagIsFoundWithItsFileAndLine() {
        String doc = "# Guide\n\ntext\n\n```bash\nbin/retain train --model m.pt \\\n"
                + "  --lr 0.1 --batch 4\n```\n\nThen `retain eval --window 8 --stride 2` works.\n";
        assertEquals(List.of("x.md:7: retain train has no option --batch (retain train --help)",
                "x.md:10: retain eval has no option --stride (retain eval --help)"),
                small().flags("x.md", doc).stream().map(Object::toString).toList());
    }

    @Test
    void aFlagOfAnotherCommandIsStaleOnThisOne() {
        assertEquals(List.of("y.md:1: retain eval has no option --learning-rate (retain eval"
                + " --help)"), small().flags("y.md", "`retain eval --learning-rate 1`").stream()
                        .map(Object::toString).toList());
    }

    @Test
    void anUnknownCommandIsStale() {
        List<DocsCheck.Problem> p = small().flags("y.md",
                "```\nretain evaluate --model m\nretain later --anything\n```\n");
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).toString().startsWith("y.md:2: retain evaluate is no retain"
                + " command"), p.toString());
    }

    @Test
    void retainsOutputIsNoCommandLine() {
        String doc = "```\n$ bin/retain eval --model m --window 8\n"
                + "retain eval: error: m: not found; retain imports --nothing\n"
                + "retain evaluate: --stride\n```\n`retain train: stopped; continue with:"
                + " retain train --resume r`\n";
        assertEquals(List.of(), small().flags("o.md", doc));
    }

    @Test
    void proseFlagsMustBeSomeCommandsAndOtherProgramsAreNotChecked() {
        String doc = "Use **--seq-len N** or `--lr 2` but not --epochs.\n\n"
                + "```bash\nmvn -B verify -Dx\npython3 tools/x.py --out d  # then --nope\n"
                + "/usr/bin/time -v bin/retain eval --seq-len 8 | grep --count x\n```\n"
                + "`kubectl wait --for=condition=complete` and `retain COMMAND --help`, "
                + "`retain --version`; --planned in x.md only.\n";
        assertEquals(List.of("z.md:1: --epochs is no option of any retain command",
                "z.md:5: --nope is no option of any retain command",
                "z.md:8: --planned is no option of any retain command"),
                small().flags("z.md", doc).stream().map(Object::toString).toList());
        assertEquals(List.of("x.md:1: --epochs is no option of any retain command",
                "x.md:5: --nope is no option of any retain command"),
                small().flags("x.md", doc).stream().map(Object::toString).toList());
    }

    @Test
    void linksToMissingFilesAndHeadingsAreFound(@TempDir Path tmp) throws IOException {
        Files.createDirectories(tmp.resolve("docs"));
        Files.writeString(tmp.resolve("docs/A.md"),
                "# A guide\n\n## `retain eval`: the protocol\n");
        String readme = "[a](docs/A.md) [b](docs/A.md#retain-eval-the-protocol)\n"
                + "[c](docs/B.md) [d](docs/A.md#gone) [e](https://example.org/x)\n"
                + "[f](docs/LATER.md) `[g](docs/C.md)` [h](#a-readme)\n\n# A readme\n\n"
                + "```\n[i](docs/D.md)\n```\n";
        Path doc = tmp.resolve("README.md");
        Files.writeString(doc, readme);
        assertEquals(List.of("README.md:2: link docs/B.md: no file docs/B.md",
                "README.md:2: link docs/A.md#gone: docs/A.md has no heading #gone"),
                DocsCheck.links(tmp, doc, readme, Set.of("docs/LATER.md")).stream()
                        .map(Object::toString).toList());
    }
}
