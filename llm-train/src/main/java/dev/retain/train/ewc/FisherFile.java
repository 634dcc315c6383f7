package dev.retain.train.ewc;

import dev.retain.core.UserError;
import dev.retain.core.model.NamedParameter;
import dev.retain.core.util.AtomicFiles;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * A saved EWC state: DJL's NDList encoding of named arrays {@code F:NAME} (the Fisher diagonal)
 * and {@code theta*:NAME} (the anchor), one pair per trainable tensor NAME. Written by {@code
 * retain fisher}, after every EWC stage ({@code RUN_DIR/ewc-stage-K.ndlist}) and into
 * checkpoints; read by {@code --ewc-prior} and on resume. The only class that knows how the
 * arrays are named.
 */
public final class FisherFile {

    /** Name prefix of a Fisher diagonal. */
    private static final String FISHER = "F:";

    /** Name prefix of an anchor. */
    private static final String ANCHOR = "theta*:";

    private FisherFile() {}

    /**
     * Names a consolidated state's arrays and lists them: every Fisher diagonal, then every
     * anchor, each in its map's order.
     *
     * @param fisher parameter name to Fisher diagonal (renamed in place)
     * @param anchor parameter name to anchor (renamed in place)
     * @return the arrays (the same arrays: whoever owns the maps owns them)
     */
    public static NDList arrays(Map<String, NDArray> fisher, Map<String, NDArray> anchor) {
        NDList l = new NDList();
        fisher.forEach((k, v) -> {
            v.setName(FISHER + k);
            l.add(v);
        });
        anchor.forEach((k, v) -> {
            v.setName(ANCHOR + k);
            l.add(v);
        });
        return l;
    }

    /**
     * Names a model's Fisher and its parameters as the anchor, parameter by parameter: {@code
     * F:NAME}, then {@code theta*:NAME} (a copy of the parameter), for each in order.
     *
     * @param params the parameters
     * @param fisher parameter name to Fisher diagonal, one per parameter (renamed in place)
     * @param scope manager the parameters' copies live on
     * @return the arrays
     */
    public static NDList ofModel(List<NamedParameter> params, Map<String, NDArray> fisher,
            NDManager scope) {
        NDList list = new NDList();
        for (NamedParameter p : params) {
            NDArray f = fisher.get(p.name());
            f.setName(FISHER + p.name());
            list.add(f);
            NDArray a = p.array().duplicate();
            a.attach(scope);
            a.setName(ANCHOR + p.name());
            list.add(a);
        }
        return list;
    }

    /**
     * Hands each array to {@code onFisher} or {@code onAnchor} with its parameter's name, in the
     * list's order; arrays named otherwise are skipped.
     *
     * @param arrays named arrays, as written by this class
     * @param onFisher takes (parameter name, Fisher diagonal)
     * @param onAnchor takes (parameter name, anchor)
     */
    public static void split(NDList arrays, BiConsumer<String, NDArray> onFisher,
            BiConsumer<String, NDArray> onAnchor) {
        for (NDArray a : arrays) {
            String n = a.getName();
            if (n.startsWith(FISHER)) {
                onFisher.accept(n.substring(FISHER.length()), a);
            } else if (n.startsWith(ANCHOR)) {
                onAnchor.accept(n.substring(ANCHOR.length()), a);
            }
        }
    }

    /**
     * Writes named arrays atomically.
     *
     * @param file the target
     * @param arrays {@code F:} and {@code theta*:} arrays ({@link #arrays}, {@link #ofModel})
     * @throws IOException when writing fails
     */
    public static void write(Path file, NDList arrays) throws IOException {
        // streamed from the tensors: no copy of the file or of an array in memory
        AtomicFiles.write(file, os -> dev.retain.core.util.TensorStreams.write(arrays, os));
    }

    /**
     * Reads a file, checks it covers the given tensors with the same shapes, and keeps only theirs
     * (a file of every parameter serves an EWC that covers some of them, see {@code ewc-exclude}).
     *
     * @param file the file
     * @param params the parameters wanted
     * @param manager manager for the arrays read
     * @return the {@code F:} and {@code theta*:} arrays of those parameters
     */
    public static NDList read(Path file, List<NamedParameter> params, NDManager manager) {
        if (!Files.isRegularFile(file)) {
            throw new UserError(file + ": Fisher file not found; make one with retain fisher");
        }
        NDList list;
        try (InputStream in = Files.newInputStream(file)) {
            list = NDList.decode(manager, in);
        } catch (IOException | RuntimeException e) {
            throw new UserError(file + ": not a Fisher file written by retain (" + e.getMessage()
                    + ")", e);
        }
        Set<String> have = new HashSet<>();
        for (NDArray a : list) {
            have.add(a.getName());
        }
        for (NamedParameter p : params) {
            for (String prefix : new String[] {FISHER, ANCHOR}) {
                if (!have.contains(prefix + p.name())) {
                    throw new UserError(file + ": has no " + prefix + p.name() + "; it was made"
                            + " for another model");
                }
            }
            NDArray f = list.get(FISHER + p.name());
            if (!f.getShape().equals(p.array().getShape())) {
                throw new UserError(file + ": " + p.name() + " has shape " + f.getShape()
                        + " but the model's is " + p.array().getShape() + "; it was made for"
                        + " another model");
            }
        }
        Set<String> wanted = new HashSet<>();
        for (NamedParameter p : params) {
            wanted.add(FISHER + p.name());
            wanted.add(ANCHOR + p.name());
        }
        NDList out = new NDList();
        for (NDArray a : list) {
            if (wanted.contains(a.getName())) {
                out.add(a);
            } else {
                a.close();
            }
        }
        return out;
    }
}
