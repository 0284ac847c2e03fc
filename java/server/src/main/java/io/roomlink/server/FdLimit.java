package io.roomlink.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * The process's open-files limit (RLIMIT_NOFILE, soft), read once at start from
 * {@code /proc/self/limits}, and the connection cap derived from it: every connection costs one
 * descriptor, and the server must keep some for its own files (jars, the epoll and event
 * descriptors of its loops, the media socket), or EMFILE hits the accept loop.
 */
final class FdLimit {
    /** Descriptors kept for the server's own files when the cap is derived from the limit. */
    static final int RESERVE = 256;
    /** The cap where the limit cannot be read (not Linux) or is unlimited. */
    static final int FALLBACK_CAP = 65_536;

    private FdLimit() {
    }

    /** The soft RLIMIT_NOFILE, if it can be read and is finite. */
    static OptionalLong softLimit() {
        try {
            return parseSoftLimit(Files.readString(Path.of("/proc/self/limits"), StandardCharsets.US_ASCII));
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    /** Parses the "Max open files" row of a {@code /proc/<pid>/limits} text. */
    static OptionalLong parseSoftLimit(String limits) {
        for (String line : limits.split("\n")) {
            if (line.startsWith("Max open files")) {
                String[] cols = line.substring("Max open files".length()).trim().split("\\s+");
                if (cols.length > 0 && cols[0].chars().allMatch(Character::isDigit) && !cols[0].isEmpty()) {
                    return OptionalLong.of(Long.parseLong(cols[0]));
                }
                return OptionalLong.empty(); // "unlimited"
            }
        }
        return OptionalLong.empty();
    }

    /** The default total connection cap: the soft limit minus {@link #RESERVE}, at least 1. */
    static int derivedConnectionCap(OptionalLong softLimit) {
        if (softLimit.isEmpty()) {
            return FALLBACK_CAP;
        }
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, softLimit.getAsLong() - RESERVE));
    }
}
