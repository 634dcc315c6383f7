package dev.retain.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where a variant stands ({@code retain run --list}, {@code --report-only}): a started variant
 * whose results.json is missing, empty, cut off or not JSON is named damaged, with why and what
 * mends it, not taken for one still partway.
 */
class VariantStateTest {

    @TempDir Path tmp;

    @Test
    void aDamagedResultsFileIsNamedDamaged() throws IOException {
        ExperimentTest helper = new ExperimentTest();
        helper.tmp = tmp;
        Experiment e = Experiment.read(helper.write(ExperimentTest.HEAD
                + "variants: [naive, ewc, replay, l2, lwf, ewc+replay]\n"));
        List<ExperimentRunner.VariantStatus> before = ExperimentRunner.statuses(e);
        String[] results = {"{\"schema\": \"retain.results/1\", \"status\": \"complete\"}",
            "{\"schema\": \"retain.results/1\", \"status\": \"running\", \"stages\": [{}]}",
            null, "", "{\"schema\": \"retain.res", "garbage{"};
        for (int i = 0; i < results.length; i++) {
            Path dir = Files.createDirectories(before.get(i).dir());
            Files.writeString(dir.resolve("run.json"), "{}");
            if (results[i] != null) {
                Files.writeString(dir.resolve("results.json"), results[i]);
            }
        }
        String mend = "; retain run writes it again from the checkpoint";
        List<String> got = ExperimentRunner.statuses(e).stream()
                .map(s -> s.state() + ": " + s.detail()).toList();
        assertEquals(List.of("done: ", "partial: 1 of 2 domains learned",
                "damaged: results.json is missing" + mend,
                "damaged: results.json is empty" + mend,
                "damaged: results.json is cut off or not JSON at line 1, column 23" + mend,
                "damaged: results.json is cut off or not JSON at line 1, column 9" + mend), got);
    }
}
