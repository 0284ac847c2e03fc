package io.roomlink;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link RecordingListener} for lines that come from a client process
 * ({@link ClientNamespace#startClient}); it also remembers when each line arrived, so that tests
 * can time a callback against the fault that caused it.
 */
class TimedEvents extends RecordingListener {
    private final List<String> lines = new ArrayList<>();
    private final List<Long> times = new ArrayList<>();

    TimedEvents(String name) {
        super(name);
    }

    @Override
    synchronized void recordExternal(String line) {
        lines.add(line);
        times.add(System.nanoTime());
        super.recordExternal(line);
    }

    /** {@link System#nanoTime()} when {@code line} last arrived; fails if it never did. */
    synchronized long arrival(String line) {
        int at = lines.lastIndexOf(line);
        if (at < 0) {
            throw new AssertionError("never saw " + line + "; saw " + lines);
        }
        return times.get(at);
    }
}
