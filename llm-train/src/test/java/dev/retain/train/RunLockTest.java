package dev.retain.train;

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
import java.util.Map;

/** One writer per run folder: a second trainer on the same folder is refused while one is open. */
class RunLockTest {

    @TempDir Path tmp;

    @Test
    void aSecondWriterOfTheSameRunFolderIsRefused() throws IOException {
        List<Path> doms = Fixtures.smallDomains(tmp.resolve("d"), 8000, 1500, "computing");
        TrainConfig c = TrainerTest.config("naive", Map.of("max-steps-per-domain", 2,
                "test-windows", 1, "eval-every", 0));
        RunSetup setup = RunSetup.create(null, c, Fixtures.tiny(), Fixtures.tokenizer(), doms);
        Path run = tmp.resolve("run");
        try (ContinualTrainer t = ContinualTrainer.start(setup, run, false)) {
            t.requestStop();
            assertEquals(ContinualTrainer.Outcome.INTERRUPTED, t.run());
            UserError e = assertThrows(UserError.class,
                    () -> ContinualTrainer.resume(run, null, false));
            String pid = "process " + ProcessHandle.current().pid();
            assertTrue(e.getMessage().startsWith(run + ": this run folder is being written by"
                    + " another process (" + pid + ")"), e.getMessage());
        }
        // released with the trainer: the run can be resumed now
        try (ContinualTrainer t = ContinualTrainer.resume(run, null, false)) {
            assertEquals(ContinualTrainer.Outcome.COMPLETE, t.run());
        }
        assertEquals(0, Files.size(run.resolve(".lock")), "released locks hold no process id");
    }
}
