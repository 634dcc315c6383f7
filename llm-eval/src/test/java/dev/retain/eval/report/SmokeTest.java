package dev.retain.eval.report;

import org.junit.jupiter.api.Test;
import java.nio.file.Path;
import java.util.List;

class SmokeTest {
    @Test
    void smoke() throws Exception {
        long t0 = System.nanoTime();
        Report r = ReportWriter.writeRuns(List.of(Fixtures.run("naive"), Fixtures.run("ewc"),
                Fixtures.run("ewc-replay"), Fixtures.run("running")), Path.of("/tmp/smoke"),
                Report.Settings.DEFAULT);
        System.out.print(ReportWriter.comparisonTable(r));
        Report c = ReportWriter.writeRuns(List.of(Fixtures.run("classifier-naive"), Fixtures.run("classifier-ewc")), Path.of("/tmp/smoke-cls"),
                Report.Settings.DEFAULT);
        System.out.print(ReportWriter.comparisonTable(c));
        System.out.println("ms " + (System.nanoTime() - t0) / 1e6);
    }
}
