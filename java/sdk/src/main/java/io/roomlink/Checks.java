package io.roomlink;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Argument checks whose messages name the bad value. */
final class Checks {
    private Checks() {
    }

    static int millisInRange(String name, Duration value, long min, long max) {
        if (value == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        long ms;
        try {
            ms = value.toMillis();
        } catch (ArithmeticException e) {
            ms = Long.MAX_VALUE;
        }
        if (ms < min || ms > max) {
            throw new IllegalArgumentException(
                    name + " must be between " + min + " ms and " + max + " ms, was " + value.toMillis() + " ms");
        }
        return (int) ms;
    }

    /** Returns null when valid, otherwise a message naming the value. */
    static String utf8Length(String name, String value, int min, int max) {
        if (value == null) {
            return name + " must not be null";
        }
        int bytes = value.getBytes(StandardCharsets.UTF_8).length;
        if (bytes < min || bytes > max) {
            return name + " must be " + min + ".." + max + " bytes of UTF-8, was " + bytes + " bytes: \""
                    + abbreviate(value) + "\"";
        }
        return null;
    }

    private static String abbreviate(String value) {
        return value.length() <= 40 ? value : value.substring(0, 40) + "…";
    }
}
