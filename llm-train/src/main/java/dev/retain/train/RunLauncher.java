package dev.retain.train;

import dev.retain.core.UserError;
import dev.retain.core.model.HfGpt2;
import dev.retain.core.util.Hashing;
import dev.retain.core.util.ResidentMemory;
import dev.retain.core.util.RunLock;
import dev.retain.eval.results.MetricsLog;
import dev.retain.eval.results.ResultsRecorder;
import dev.retain.train.lm.Strategies;
import dev.retain.train.plugin.Plugin;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * Opens a run folder for a {@link ContinualTrainer}: a new run (run.json, config.json, the
 * results skeleton) or a resumed one (the base model checked unchanged, then the newest
 * checkpoint's model, optimizer, plugin states and {@link TrainState}). The trainer holds the
 * folder's {@link RunLock} from here until it is closed, so that no second process writes the run.
 */
final class RunLauncher {

    private RunLauncher() {}

    static ContinualTrainer start(RunSetup setup, Path runDir, boolean progress,
            Function<Strategies.Parts, List<Plugin>> strategies) throws IOException {
        refuseExistingRun(runDir); // before the lock touches the folder
        return locked(runDir, lock -> start(setup, runDir, progress, strategies, lock));
    }

    private static void refuseExistingRun(Path runDir) {
        if (Files.exists(runDir.resolve(RunSetup.FILE))) {
            throw new UserError(runDir + ": already holds a run; continue it with --resume "
                    + runDir + " or choose another --out");
        }
    }

    /** What is done while holding a run folder's lock; the lock goes with the trainer. */
    private interface Locked {
        ContinualTrainer open(RunLock lock) throws IOException;
    }

    /** Takes the folder's lock, then opens the trainer; releases the lock when that fails. */
    private static ContinualTrainer locked(Path runDir, Locked body) throws IOException {
        RunLock lock = RunLock.acquire(runDir, "run folder");
        try {
            return body.open(lock);
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    private static ContinualTrainer start(RunSetup setup, Path runDir, boolean progress,
            Function<Strategies.Parts, List<Plugin>> strategies, RunLock lock)
            throws IOException {
        refuseExistingRun(runDir); // again: another process may have started it meanwhile
        // Measure this run's peak memory from here, not the peaks of what ran before in this JVM.
        boolean reset = ResidentMemory.resetPeak();
        ContinualTrainer t = new ContinualTrainer(setup, runDir, progress, strategies, lock);
        try {
            checkDisk(setup, runDir, progress, t);
        } catch (IOException | RuntimeException e) {
            t.closeKeepingLock();
            throw e;
        }
        setup.write(runDir);
        t.state = new TrainState(new Random(Seeds.derive(setup.config().seed(), "plugins", 0)));
        ObjectNode model = ResultsRecorder.model(setup.model().toString(),
                t.in.lm.parameterCount(), t.in.lm.context(), t.in.lm.vocabSize(), t.in.seqLen);
        t.results = ResultsRecorder.start(setup.name(), setup.config().strategy(),
                setup.config().toJson(), model, t.in.names);
        t.results.peakRssScope(reset);
        String drift = setup.config().drift();
        t.results.driftWeighting(drift.equals("off") ? null : drift.equals("plain") ? "none"
                : "fisher");
        t.results.metrics(MetricsLog.open(runDir, 0), 0);
        t.in.writeConfig(setup.model(), runDir);
        return t;
    }

    /**
     * Refuses, before anything is written, a run whose stage models cannot be exported as asked
     * or whose files cannot fit on its file system; says how much disk it may need.
     */
    private static void checkDisk(RunSetup setup, Path runDir, boolean progress,
            ContinualTrainer t) throws IOException {
        if (!setup.config().exportFormat().equals("torchscript")) {
            HfGpt2.of(t.in.lm, 0); // a model that cannot be a Hugging Face GPT-2: refused now
        }
        DiskPlan disk = DiskPlan.estimate(setup.config(), Files.size(setup.model()),
                t.in.lm.parameters(), t.in.names.size());
        long free = DiskPlan.free(runDir);
        disk.check(runDir, free);
        if (progress) {
            System.err.println("disk: up to " + DiskPlan.gb(disk.total()) + " in " + runDir + " ("
                    + disk.describe() + "); " + DiskPlan.gb(free) + " free");
        }
    }

    static ContinualTrainer resume(Path runDir, Path expectModel, boolean progress,
            boolean allowChangedData, Function<Strategies.Parts, List<Plugin>> strategies)
            throws IOException {
        RunSetup.read(runDir); // refuses a folder without a run before the lock creates anything
        return locked(runDir, lock -> resume(runDir, expectModel, progress, allowChangedData,
                strategies, lock));
    }

    private static ContinualTrainer resume(Path runDir, Path expectModel, boolean progress,
            boolean allowChangedData, Function<Strategies.Parts, List<Plugin>> strategies,
            RunLock lock) throws IOException {
        RunSetup setup = RunSetup.read(runDir);
        if (expectModel != null && !Hashing.sha256(expectModel).equals(setup.modelSha256())) {
            throw new UserError(runDir + ": this run was made with another model ("
                    + setup.model() + "), not " + expectModel + "; resume without --model or"
                    + " start a new run");
        }
        if (!Files.isRegularFile(setup.model())
                || !Hashing.sha256(setup.model()).equals(setup.modelSha256())) {
            throw new UserError(setup.model() + ": the base model of run " + runDir
                    + " is missing or has changed since the run started; restore it to resume");
        }
        List<String> changed = setup.verifyInputs(runDir, allowChangedData);
        Path ckpt = new Checkpoints(runDir, setup.config().keepCheckpoints()).newestVerified();
        if (ckpt == null) {
            // Killed before the first checkpoint: start over in the same folder.
            Files.delete(runDir.resolve(RunSetup.FILE));
            Files.deleteIfExists(runDir.resolve("results.json"));
            ContinualTrainer t = start(setup, runDir, progress, strategies, lock);
            t.results.changedInputs(changed, 0);
            return t;
        }
        boolean reset = ResidentMemory.resetPeak();
        RunSetup atCheckpoint = new RunSetup(setup.name(), setup.config(),
                ckpt.resolve("model.pt"), setup.modelSha256(), setup.tokenizer(), setup.domains(),
                setup.sources(), setup.evalDomains(), setup.general());
        ContinualTrainer t = new ContinualTrainer(atCheckpoint, runDir, progress, strategies,
                lock);
        t.in.lm.exportTemplate(setup.model()); // the checkpoint's folder may be deleted later
        try {
            restore(t, ckpt);
        } catch (IOException | RuntimeException e) {
            t.closeKeepingLock();
            throw e;
        }
        t.results.peakRssScope(reset);
        t.results.changedInputs(changed, t.state.globalStep);
        // Lines logged after the checkpoint are of steps the run repeats now.
        t.results.metrics(MetricsLog.open(runDir, t.state.metricsBytes), t.state.globalStep);
        return t;
    }

    private static void restore(ContinualTrainer t, Path ckpt) throws IOException {
        Checkpoints.Restored r = Checkpoints.readState(ckpt);
        t.state = r.state();
        t.results = r.results();
        Checkpoints.loadTensors(ckpt, t.adam, r.adamSteps(), t.plugins, t.context,
                t.in.lm.manager());
        if (t.state.streamOpen && t.state.stage < t.in.names.size()) {
            t.openStream();
            t.state.stream.seek(t.state.streamEpoch, t.state.streamIndex);
        }
    }
}
