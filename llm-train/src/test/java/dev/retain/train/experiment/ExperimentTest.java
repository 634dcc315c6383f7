package dev.retain.train.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Experiment files: variants, sweeps, and one clear line (with the line number) per mistake. */
class ExperimentTest {

    @TempDir Path tmp;

    Path write(String yaml) throws IOException {
        Files.createDirectories(tmp.resolve("d/a"));
        Files.createDirectories(tmp.resolve("d/b"));
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
        assertEquals(1000.0, e.variants().get(2).config().ewcLambda());
        assertEquals("ewc", e.variants().get(2).config().strategy());
        assertEquals(0.5, e.variants().get(4).config().replayRatio());
        assertEquals(4096L, e.variants().get(5).config().replayTokens());
        assertEquals(0.002, e.variants().get(5).config().learningRate());
        assertEquals(tmp.resolve("d/a"), e.domains().get(0));
        assertEquals(tmp.resolve("exp.runs"), e.out());
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
        assertTrue(m.contains("exp.yaml:6: duplicate variant name 'naive' (first at "), m);
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
        String m = error(HEAD + "variants: [naive, lwf]\n");
        assertTrue(m.contains("unknown strategy 'lwf'"), m);
    }
}
