package dev.retain.train.ewc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.Engines;
import dev.retain.core.UserError;
import dev.retain.core.model.NamedParameter;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The Fisher file's naming ({@code F:NAME}, {@code theta*:NAME}), written and read back. */
class FisherFileTest {

    @TempDir Path tmp;

    private static List<String> names(NDList l) {
        List<String> out = new ArrayList<>();
        l.forEach(a -> out.add(a.getName()));
        return out;
    }

    @Test
    void namesWriteAndReadBack() throws Exception {
        Engines.pytorch();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            List<NamedParameter> params = List.of(
                    new NamedParameter("h.0.w", m.create(new float[] {1f, 2f})),
                    new NamedParameter("h.0.b", m.create(new float[] {3f})));
            Map<String, NDArray> f = new LinkedHashMap<>();
            f.put("h.0.w", m.create(new float[] {0.5f, 0.25f}));
            f.put("h.0.b", m.create(new float[] {4f}));
            // retain fisher's file: parameter by parameter
            NDList model = FisherFile.ofModel(params, f, m);
            assertEquals(List.of("F:h.0.w", "theta*:h.0.w", "F:h.0.b", "theta*:h.0.b"),
                    names(model));
            Path file = tmp.resolve("f.ndlist");
            FisherFile.write(file, model);
            NDList read = FisherFile.read(file, params.subList(1, 2), m);
            assertEquals(List.of("F:h.0.b", "theta*:h.0.b"), names(read));
            Map<String, float[]> fisher = new LinkedHashMap<>();
            Map<String, float[]> anchor = new LinkedHashMap<>();
            FisherFile.split(FisherFile.read(file, params, m),
                    (p, a) -> fisher.put(p, a.toFloatArray()),
                    (p, a) -> anchor.put(p, a.toFloatArray()));
            assertEquals(List.of("h.0.w", "h.0.b"), List.copyOf(fisher.keySet()));
            assertArrayEquals(new float[] {0.5f, 0.25f}, fisher.get("h.0.w"));
            assertArrayEquals(new float[] {1f, 2f}, anchor.get("h.0.w"));
            assertArrayEquals(new float[] {3f}, anchor.get("h.0.b"));
            // a penalty's state: every Fisher, then every anchor
            EwcPenalty ewc = new EwcPenalty(m, 1, 1);
            ewc.restore(read);
            assertEquals(List.of("F:h.0.b", "theta*:h.0.b"), names(ewc.state()));
            UserError e = assertThrows(UserError.class, () -> FisherFile.read(file,
                    List.of(new NamedParameter("lm_head.weight", m.create(new float[] {1f}))),
                    m));
            assertTrue(e.getMessage().contains("has no F:lm_head.weight"), e.getMessage());
            ewc.close();
        }
    }
}
