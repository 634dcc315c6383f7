package dev.retain.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;
import dev.retain.train.optim.Schedule;
import dev.retain.train.lm.ReplayPlugin;
import dev.retain.train.lm.EwcPlugin;
import dev.retain.train.lm.Strategies;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Experiment files: variants, sweeps, and one clear line (with the line number) per mistake. */
class ExperimentTest {

    @TempDir Path tmp;

    /**
     * Writes an experiment file beside what it names: m.pt and tokenizer.json (contents do not
     * matter: reading checks that they exist) and domains d/a, d/b with their three splits.
     */
    Path write(String yaml) throws IOException {
        for (String d : new String[] {"d/a", "d/b"}) {
            Files.createDirectories(tmp.resolve(d));
            for (String s : new String[] {"train", "valid", "test"}) {
                Files.writeString(tmp.resolve(d).resolve(s + ".txt"), "text");
            }
        }
        Files.writeString(tmp.resolve("m.pt"), "");
        Files.writeString(tmp.resolve("tokenizer.json"), "{}");
        Path f = tmp.resolve("exp.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    static final String HEAD = "model: m.pt\ndomains: [d/a, d/b]\n";

    String error(String yaml) throws IOException {
        Path f = write(yaml);
        return assertThrows(UserError.class, () -> Experiment.read(f)).getMessage();
    }

    @Test
    void variantsAndSweeps() throws IOException {
        Experiment e = Experiment.read(write(HEAD + "settings:\n  learning-rate: 0.002\n"
                + "variants:\n  - naive\n  - ewc lambda=[1e2,1e3,1e4]\n  - replay ratio=0.5\n"
                + "  - {name: both, strategy: ewc+replay, budget: 4096}\n"));
        List<String> names = e.variants().stream().map(Experiment.Variant::name).toList();
        assertEquals(List.of("naive", "ewc lambda=1e2", "ewc lambda=1e3", "ewc lambda=1e4",
                "replay ratio=0.5", "both"), names);
        assertEquals(1000.0, e.variants().get(2).config().get(EwcPlugin.LAMBDA));
        assertEquals("ewc", e.variants().get(2).config().get(Strategies.STRATEGY));
        assertEquals(0.5, e.variants().get(4).config().get(ReplayPlugin.RATIO));
        assertEquals(4096L, e.variants().get(5).config().get(ReplayPlugin.TOKENS));
        assertEquals(0.002, e.variants().get(5).config().get(Schedule.LEARNING_RATE));
        assertEquals(tmp.resolve("d/a"), e.domains().get(0));
        assertEquals(tmp.resolve("exp.runs"), e.out());
    }

    @Test
    void excludeIsEwcExcludeAndABadPatternIsOneLine() throws IOException {
        Experiment e = Experiment.read(write(HEAD + "variants:\n"
                + "  - ewc+replay exclude=wte|wpe lambda=[1000, 2000]\n  - ewc\n"));
        assertEquals(List.of("ewc+replay exclude=wte|wpe lambda=1000",
                "ewc+replay exclude=wte|wpe lambda=2000", "ewc"),
                e.variants().stream().map(Experiment.Variant::name).toList());
        assertEquals("wte|wpe", e.variants().get(1).config().get(EwcPlugin.EXCLUDE));
        assertEquals(2000.0, e.variants().get(1).config().get(EwcPlugin.LAMBDA));
        assertEquals("", e.variants().get(2).config().get(EwcPlugin.EXCLUDE));
        String m = error(HEAD + "settings:\n  ewc-exclude: \"(wte\"\nvariants: [ewc]\n");
        assertTrue(m.contains("exp.yaml:4: ewc-exclude '(wte' is not a regular expression"), m);
    }

    @Test
    void unknownTopLevelKeyWithLine() throws IOException {
        String m = error(HEAD + "varients: [naive]\n");
        assertTrue(m.contains("exp.yaml:3: unknown experiment key 'varients'"), m);
    }

    @Test
    void unknownSettingWithLine() throws IOException {
        String m = error(HEAD + "settings:\n  learning-rate: 0.1\n  lamda: 3\nvariants: [naive]\n");
        assertTrue(m.contains("exp.yaml:5: unknown setting 'lamda'"), m);
    }

    @Test
    void unknownVariantKeyWithLine() throws IOException {
        String m = error(HEAD + "variants:\n  - naive\n  - {strategy: ewc, lamda: 3}\n");
        assertTrue(m.contains("exp.yaml:5") && m.contains("unknown setting 'lamda'"), m);
    }

    @Test
    void wrongType() throws IOException {
        String m = error(HEAD + "settings:\n  batch-size: eight\nvariants: [naive]\n");
        assertTrue(m.contains("exp.yaml:4: batch-size must be a whole number"), m);
    }

    @Test
    void sweepOfNothing() throws IOException {
        String m = error(HEAD + "variants:\n  - naive\n  - ewc lambda=[]\n");
        assertTrue(m.contains("exp.yaml:5") && m.contains("zero variants"), m);
    }

    @Test
    void duplicateNames() throws IOException {
        String m = error(HEAD + "variants:\n  - naive\n  - ewc\n  - naive\n");
        assertTrue(m.contains("exp.yaml:6: duplicate variant name 'naive' (variant 3 of the list;"
                + " the first is at ") && m.contains("exp.yaml:4, variant 1)"), m);
        // A flow list holds both on one line: the list positions tell them apart.
        m = error(HEAD + "variants: [naive, ewc, naive]\n");
        assertTrue(m.contains("exp.yaml:3: duplicate variant name 'naive' (variant 3 of the list;"
                + " the first is at ") && m.contains("exp.yaml:3, variant 1)"), m);
    }

    @Test
    void aVariantNameThatWouldLeaveOrReuseTheOutFolderIsRefusedWithItsLine() throws IOException {
        String v = HEAD + "variants:\n  - naive\n  - {name: %s, strategy: naive}\n";
        assertTrue(error(String.format(v, "\"..\"")).contains("exp.yaml:5: variant name '..'"
                + " would name the folder itself or the one above it"));
        assertTrue(error(String.format(v, "\".\"")).contains("exp.yaml:5: variant name '.'"));
        assertTrue(error(String.format(v, "\"\"")).contains("exp.yaml:5: variant name '' is"
                + " empty"));
        assertTrue(error(String.format(v, ".lock")).contains("exp.yaml:5: variant name '.lock'"
                + " starts with a dot"));
        assertTrue(error(String.format(v, "Report")).contains("exp.yaml:5: variant name"
                + " 'Report' is a name the folder uses itself"));
        // a separator is no escape: it becomes part of a plain folder name
        Experiment e = Experiment.read(write(String.format(v, "\"a/../../b\"")));
        assertEquals("a_.._.._b", e.variants().get(1).folderName());
        assertEquals(e.out().resolve("a_.._.._b"), ExperimentRunner.folders(e).get("a/../../b"));
        assertTrue(error(String.format(v, "\"../x\"")).contains("exp.yaml:5: variant name"
                + " '.._x' starts with a dot"));
    }

    @Test
    void domainListedTwice() throws IOException {
        String m = error("model: m.pt\ndomains:\n  - d/a\n  - d/b\n  - d/a\nvariants: [naive]\n");
        assertTrue(m.contains("exp.yaml:5: domain 'a' is listed twice"), m);
    }

    @Test
    void strategyInSharedSettings() throws IOException {
        String m = error(HEAD + "settings:\n  strategy: ewc\nvariants: [naive]\n");
        assertTrue(m.contains("belongs to each variant"), m);
    }

    @Test
    void unknownStrategyInVariant() throws IOException {
        String m = error(HEAD + "variants: [naive, si]\n");
        assertTrue(m.contains("unknown strategy 'si'"), m);
    }

    @Test
    void sweepWrittenWithSpaces() throws IOException {
        Experiment e = Experiment.read(write(HEAD + "variants:\n  - ewc lambda=[1e2, 1e3]\n"
                + "  - replay  ratio=[ 0.25 ,0.5 ]   budget=2048\n"));
        assertEquals(List.of("ewc lambda=1e2", "ewc lambda=1e3", "replay ratio=0.25 budget=2048",
                "replay ratio=0.5 budget=2048"),
                e.variants().stream().map(Experiment.Variant::name).toList());
        assertEquals(100.0, e.variants().get(0).config().get(EwcPlugin.LAMBDA));
        assertEquals(1000.0, e.variants().get(1).config().get(EwcPlugin.LAMBDA));
        assertEquals(0.5, e.variants().get(3).config().get(ReplayPlugin.RATIO));
        assertEquals(2048L, e.variants().get(3).config().get(ReplayPlugin.TOKENS));
    }

    @Test
    void sweepOfNothingWithASpace() throws IOException {
        String m = error(HEAD + "variants:\n  - naive\n  - ewc lambda=[ ]\n");
        assertTrue(m.contains("exp.yaml:5") && m.contains("zero variants"), m);
    }

    @Test
    void unclosedSweep() throws IOException {
        String m = error(HEAD + "variants:\n  - ewc lambda=[1e2, 1e3\n");
        assertTrue(m.contains("exp.yaml:4") && m.contains("'[' without ']'"), m);
    }

    @Test
    void strategySweepNamesEachVariantByItsStrategy() throws IOException {
        Experiment e = Experiment.read(write(HEAD + "variants:\n  - naive\n"
                + "  - {strategy: [ewc, replay]}\n"
                + "  - {name: both, strategy: [ewc, ewc+replay], lambda: [1e2, 1e3]}\n"));
        // YAML reads 1e2 in a mapping as the number 100.0, and the name shows it so.
        assertEquals(List.of("naive", "ewc", "replay", "both ewc lambda=100.0",
                "both ewc lambda=1000.0", "both ewc+replay lambda=100.0",
                "both ewc+replay lambda=1000.0"),
                e.variants().stream().map(Experiment.Variant::name).toList());
        assertEquals(List.of("naive", "ewc", "replay", "ewc", "ewc", "ewc+replay", "ewc+replay"),
                e.variants().stream().map(v -> v.config().get(Strategies.STRATEGY)).toList());
        assertEquals(1000.0, e.variants().get(6).config().get(EwcPlugin.LAMBDA));
    }

    @Test
    void strategySweepClashingWithAnotherVariant() throws IOException {
        String m = error(HEAD + "variants:\n  - ewc\n  - {strategy: [ewc, replay]}\n");
        assertTrue(m.contains("exp.yaml:5: duplicate variant name 'ewc' (variant 2 of the list;")
                && m.contains("exp.yaml:4, variant 1)"), m);
    }

    @Test
    void missingDomainFolderWithLineAndPath() throws IOException {
        String m = error("model: m.pt\ndomains:\n  - d/a\n  - d/nope\nvariants: [naive]\n");
        assertTrue(m.contains("exp.yaml:4: domain folder not found: " + tmp.resolve("d/nope")), m);
    }

    @Test
    void domainFolderWithoutASplit() throws IOException {
        Path f = write("model: m.pt\ndomains: [d/a, d/b]\nvariants: [naive]\n");
        Files.delete(tmp.resolve("d/b/valid.txt"));
        String m = assertThrows(UserError.class, () -> Experiment.read(f)).getMessage();
        assertTrue(m.contains("exp.yaml:2: domain folder " + tmp.resolve("d/b") + " has no"
                + " valid.txt"), m);
    }

    @Test
    void missingModelWithLineAndPath() throws IOException {
        String m = error("domains: [d/a]\nmodel: models/x.pt\nvariants: [naive]\n");
        assertTrue(m.contains("exp.yaml:2: model file not found: " + tmp.resolve("models/x.pt")),
                m);
    }

    @Test
    void missingTokenizerWithLineAndPath() throws IOException {
        String m = error(HEAD + "tokenizer: tok/t.json\nvariants: [naive]\n");
        assertTrue(m.contains("exp.yaml:3: tokenizer file not found: "
                + tmp.resolve("tok/t.json")), m);
        Path f = write(HEAD + "variants: [naive]\n");
        Files.delete(tmp.resolve("tokenizer.json"));
        m = assertThrows(UserError.class, () -> Experiment.read(f)).getMessage();
        assertTrue(m.contains("exp.yaml:1: no 'tokenizer' given and no tokenizer.json beside the"
                + " model (" + tmp.resolve("tokenizer.json") + ")"), m);
    }

    @Test
    void keyGivenTwice() throws IOException {
        String m = error(HEAD + "variants: [naive]\nout: o\nvariants: [ewc]\n");
        assertTrue(m.contains("exp.yaml:5: key 'variants' is given twice in the same mapping"
                + " (first at line 3)"), m);
        assertEquals(1, m.lines().count(), m);
    }

    @Test
    void keyGivenTwiceInsideAVariantOfAJsonFile() throws IOException {
        write("");
        Path f = tmp.resolve("exp.json");
        Files.writeString(f, "{\"model\": \"m.pt\", \"domains\": [\"d/a\"],\n"
                + " \"variants\": [\n  {\"strategy\": \"ewc\",\n   \"strategy\": \"replay\"}]}\n");
        String m = assertThrows(UserError.class, () -> Experiment.read(f)).getMessage();
        assertTrue(m.contains("exp.json:4: key 'strategy' is given twice in the same mapping"
                + " (first at line 3)"), m);
    }

    @Test
    void missingExperimentFile() {
        Path f = tmp.resolve("none.yaml");
        String m = assertThrows(UserError.class, () -> Experiment.read(f)).getMessage();
        assertEquals(f + ": experiment file not found", m);
    }

    @Test
    void sourcesWithoutSplitsAndTheirSettingsAreTopLevelKeys() throws IOException {
        Path f = write("model: m.pt\ndomains: [d/a, news.jsonl.gz, book.txt]\ntext-field: body\n"
                + "doc-sep: blank\nsplit: 90,5,5\nskip-bad-lines: true\nvariants: [naive]\n");
        Files.writeString(tmp.resolve("news.jsonl.gz"), "");
        Files.writeString(tmp.resolve("book.txt"), "");
        Experiment e = Experiment.read(f);
        assertEquals(List.of(tmp.resolve("d/a"), tmp.resolve("news.jsonl.gz"),
                tmp.resolve("book.txt")), e.domains());
        assertEquals(new dev.retain.core.text.SourceOptions("body",
                dev.retain.core.text.SourceOptions.DocSep.BLANK, 90, 5, 5, true), e.sources());
        assertEquals(dev.retain.core.text.SourceOptions.defaults(),
                Experiment.read(write(HEAD + "variants: [naive]\n")).sources());
    }

    @Test
    void badSourceSettingsAndSourcesWithTheirLine() throws IOException {
        String m = error(HEAD + "split: 90,5,6\nvariants: [naive]\n");
        assertTrue(m.contains("exp.yaml:3: split 90,5,6: the train, valid and test shares are"
                + " percentages, each 0 or more, summing to 100"), m);
        m = error(HEAD + "doc-sep: comma\nvariants: [naive]\n");
        assertTrue(m.contains("exp.yaml:3: unknown doc-sep 'comma'; expected one of eot, blank"),
                m);
        m = error("model: m.pt\ndomains: [d/a, gone.jsonl]\nvariants: [naive]\n");
        assertTrue(m.contains("exp.yaml:2: domain file not found: " + tmp.resolve("gone.jsonl")),
                m);
        Files.writeString(tmp.resolve("a.jsonl"), "");
        m = error("model: m.pt\ndomains: [d/a, a.jsonl]\nvariants: [naive]\n");
        assertTrue(m.contains("exp.yaml:2: domain 'a' is listed twice (also entry 1)"), m);
    }
}
