package io.roomlink.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Whether a room server in another process still runs its accept thread (roomlink-accept-*), read
 * from /proc: what the fd-exhaustion test and the bench's fd-flood row ask of a server under attack.
 */
public final class AcceptThread {
    /** The kernel keeps 15 characters of a thread name (comm), newline included. */
    private static final String COMM_PREFIX = "roomlink-accep";

    private AcceptThread() {
    }

    /** False also when the process is gone or its threads cannot be listed. */
    public static boolean alive(long pid) {
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return tasks.anyMatch(t -> {
                try {
                    return Files.readString(t.resolve("comm")).startsWith(COMM_PREFIX);
                } catch (IOException e) {
                    return false;
                }
            });
        } catch (IOException e) {
            return false;
        }
    }
}
