package io.roomlink;

import java.util.function.ToIntFunction;

/** Code-to-constant tables shared by the public enums. */
final class Codes {
    private Codes() {
    }

    static <E> E[] index(E[] values, ToIntFunction<E> code) {
        int max = 0;
        for (E value : values) {
            max = Math.max(max, code.applyAsInt(value));
        }
        E[] table = java.util.Arrays.copyOf(values, max + 1);
        java.util.Arrays.fill(table, null);
        for (E value : values) {
            int c = code.applyAsInt(value);
            if (c >= 0) {
                table[c] = value;
            }
        }
        return table;
    }

    static <E> E lookup(E[] table, int code, E unknown) {
        if (code < 0 || code >= table.length || table[code] == null) {
            return unknown;
        }
        return table[code];
    }
}
