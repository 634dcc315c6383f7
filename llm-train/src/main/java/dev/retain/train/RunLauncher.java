package dev.retain.train;

import dev.retain.core.UserError;
import dev.retain.core.model.HfGpt2;
import dev.retain.core.util.Hashing;
import dev.retain.core.util.ResidentMemory;
import dev.retain.core.util.RunLock;
import dev.retain.core.util.Seeds;
import dev.retain.eval.results.MetricsLog;
import dev.retain.eval.results.ResultsRecorder;
import dev.retain.train.lifecycle.DriftRecorder;
import dev.retain.train.lifecycle.StageExport;
import dev.retain.train.lm.Strategies;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Opens a run folder for a {@link ContinualTrainer}: a new run (inputs loaded, disk checked,
 * run.json, config.json, the results skeleton) or a resumed one (the base model checked
 * unchanged, the newest checkpoint's {@link TrainState} and results read, its model loaded); then
 * builds the trainer whole from those, and for a resume restores the optimizer and the plugins'
 * states into it. The trainer holds the folder's {@link RunLock} from here until it is closed, so
 * that no second process writes the run.
 */
final class RunLauncher {

    private RunLauncher() {}

    static ContinualTrainer start(RunSetup setup, Path runDir, TrainerBuilder b)
            throws IOException {
        refuseExistingRun(runDir); // before the lock touches the folder
        return locked(runDir, lock -> start(setup, runDir, b, lock));
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

    /** Loads a run's inputs; frees them when what follows fails. */
    private interface WithInputs {
        ContinualTrainer open(RunInputs in) throws IOException;
    }

    private static ContinualTrainer withInputs(RunSetup loaded, boolean progress,
            String pinnedPrecision, WithInputs body) throws IOException {
        RunInputs in = RunInputs.load(loaded, progress, pinnedPrecision);
        try {
            return body.open(in);
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
    }

    private static ContinualTrainer start(RunSetup setup, Path runDir, TrainerBuilder b,
            RunLock lock) throws IOException {
        refuseExistingRun(runDir); // again: another process may have started it meanwhile
        // Measure this run's peak memory from here, not the peaks of what ran before in this JVM.
        boolean reset = ResidentMemory.resetPeak();
        return withInputs(setup, b.progress, null, in -> {
            checkDisk(setup, runDir, b.progress, in);
            setup.write(runDir);
            TrainConfig c = setup.config();
            TrainState state = new TrainState(new Random(Seeds.derive(c.get(TrainConfig.SEED),
                    "plugins", 0)));
            ObjectNode model = ResultsRecorder.model(setup.model().toString(),
                    in.lm.parameterCount(), in.lm.context(), in.lm.vocabSize(), in.seqLen);
            ResultsRecorder results = ResultsRecorder.start(setup.name(),
                    c.get(Strategies.STRATEGY), c.toJson(), model, in.names);
            results.peakRssScope(reset);
            results.precision(in.precision.precision().label(), in.precision.why());
            String drift = c.get(DriftRecorder.DRIFT);
            results.driftWeighting(drift.equals("off") ? null : drift.equals("plain") ? "none"
                    : "fisher");
            results.metrics(MetricsLog.open(runDir, 0), 0);
            in.writeConfig(setup.model(), runDir);
            return new ContinualTrainer(setup, runDir, b.progress, in, state, results,
                    b.strategies, b.baseRow, b.baseDetail, lock);
        });
    }

    /**
     * Refuses, before anything is written, a run whose stage models cannot be exported as asked
     * or whose files cannot fit on its file system; says how much disk it may need.
     */
    private static void checkDisk(RunSetup setup, Path runDir, boolean progress, RunInputs in)
            throws IOException {
        if (!setup.config().get(StageExport.FORMAT).equals("torchscript")) {
            HfGpt2.of(in.lm, 0); // a model that cannot be a Hugging Face GPT-2: refused now
        }
        DiskPlan disk = DiskPlan.estimate(setup.config(), Files.size(setup.model()),
                in.lm.parameters(), in.names.size());
        long free = DiskPlan.free(runDir);
        disk.check(runDir, free);
        if (progress) {
            System.err.println("disk: up to " + DiskPlan.gb(disk.total()) + " in " + runDir + " ("
                    + disk.describe() + "); " + DiskPlan.gb(free) + " free");
        }
    }

    static ContinualTrainer resume(Path runDir, TrainerBuilder b) throws IOException {
        RunSetup.read(runDir); // refuses a folder without a run before the lock creates anything
        return locked(runDir, lock -> resume(runDir, b, lock));
    }

    private static ContinualTrainer resume(Path runDir, TrainerBuilder b, RunLock lock)
            throws IOException {
        RunSetup setup = RunSetup.read(runDir);
        Path expectModel = b.expectModel;
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
        List<String> changed = setup.verifyInputs(runDir, b.allowChangedData);
        Path ckpt = new Checkpoints(runDir, setup.config().get(TrainConfig.KEEP_CHECKPOINTS))
                .newestVerified();
        if (ckpt == null) {
            // Killed before the first checkpoint: start over in the same folder.
            Files.delete(runDir.resolve(RunSetup.FILE));
            Files.deleteIfExists(runDir.resolve("results.json"));
            ContinualTrainer t = start(setup, runDir, b, lock);
            t.results().changedInputs(changed, 0);
            return t;
        }
        boolean reset = ResidentMemory.resetPeak();
        Checkpoints.Restored r = Checkpoints.readState(ckpt);
        RunSetup atCheckpoint = new RunSetup(setup.name(), setup.config(),
                ckpt.resolve("model.pt"), setup.modelSha256(), setup.tokenizer(), setup.domains(),
                setup.sources(), setup.evalDomains(), setup.general());
        // The precision the run computed in, not a new resolution of "auto".
        return withInputs(atCheckpoint, b.progress, r.results().precision(), in -> {
            in.lm.exportTemplate(setup.model()); // the checkpoint's folder may be deleted later
            ContinualTrainer t = new ContinualTrainer(setup, runDir, b.progress, in, r.state(),
                    r.results(), b.strategies, null, null, lock);
            try {
                t.restore(ckpt, r.adamSteps());
            } catch (IOException | RuntimeException e) {
                t.closeKeepingLock();
                throw e;
            }
            r.results().peakRssScope(reset);
            r.results().changedInputs(changed, r.state().globalStep);
            // Lines logged after the checkpoint are of steps the run repeats now.
            r.results().metrics(MetricsLog.open(runDir, r.state().metricsBytes),
                    r.state().globalStep);
            return t;
        });
    }
}
