package dev.retain.experiment;

import dev.retain.core.UserError;

import java.util.ArrayList;
import java.util.List;

/** The words of a variant written as text in an experiment file ({@code ewc lambda=[1e2, 1e3]}). */
final class VariantWords {

    private VariantWords() {}

    /**
     * Splits a variant's text at spaces outside brackets, so that a sweep may be written with
     * spaces: {@code ewc lambda=[1e2, 1e3]} gives {@code ewc} and {@code lambda=[1e2, 1e3]}.
     */
    static List<String> split(String text, String where) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        int depth = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '[') {
                depth++;
            } else if (c == ']') {
                depth--;
                if (depth < 0) {
                    throw new UserError(where + ": ']' without '[' in '" + text + "'; a sweep is"
                            + " written key=[v1, v2]");
                }
            }
            if (Character.isWhitespace(c) && depth == 0) {
                if (cur.length() > 0) {
                    out.add(cur.toString());
                    cur.setLength(0);
                }
            } else {
                cur.append(c);
            }
        }
        if (depth != 0) {
            throw new UserError(where + ": '[' without ']' in '" + text + "'; a sweep is written"
                    + " key=[v1, v2]");
        }
        if (cur.length() > 0) {
            out.add(cur.toString());
        }
        return out;
    }
}
