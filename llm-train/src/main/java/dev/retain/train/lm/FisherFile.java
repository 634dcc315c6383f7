package dev.retain.train.lm;

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
import java.util.Set;

/**
 * A saved EWC state: DJL's NDList encoding of named arrays {@code F:NAME} (the Fisher diagonal)
 * and {@code theta*:NAME} (the anchor), one pair per trainable tensor. Written by {@code retain
 * fisher} and after every EWC stage ({@code RUN_DIR/ewc-stage-K.ndlist}); read by {@code
 * --ewc-prior}.
 */
public final class FisherFile {

    private FisherFile() {}

    /**
     * Writes named arrays atomically.
     *
     * @param file the target
     * @param arrays {@code F:} and {@code theta*:} arrays
     * @throws IOException when writing fails
     */
    public static void write(Path file, NDList arrays) throws IOException {
        byte[] bytes = arrays.encode();
        AtomicFiles.write(file, out -> out.write(bytes));
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
            for (String prefix : new String[] {"F:", "theta*:"}) {
                if (!have.contains(prefix + p.name())) {
                    throw new UserError(file + ": has no " + prefix + p.name() + "; it was made"
                            + " for another model");
                }
            }
            NDArray f = list.get("F:" + p.name());
            if (!f.getShape().equals(p.array().getShape())) {
                throw new UserError(file + ": " + p.name() + " has shape " + f.getShape()
                        + " but the model's is " + p.array().getShape() + "; it was made for"
                        + " another model");
            }
        }
        Set<String> wanted = new HashSet<>();
        for (NamedParameter p : params) {
            wanted.add("F:" + p.name());
            wanted.add("theta*:" + p.name());
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
