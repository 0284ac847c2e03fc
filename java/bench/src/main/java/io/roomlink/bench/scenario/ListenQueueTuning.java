package io.roomlink.bench.scenario;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Raises the kernel's accept and SYN queue limits for one scenario and puts them back afterwards.
 * Any server that expects thousands of clients to reconnect at the same moment is deployed with
 * these raised; without them the kernel caps the server's own backlog (16,384) at somaxconn and
 * every SYN beyond it waits out TCP's 1, 2, 4, 8 s retransmission timer. Needs root; otherwise
 * nothing changes and {@link #describe()} says so.
 */
final class ListenQueueTuning implements AutoCloseable {
    private static final Path SOMAXCONN = Path.of("/proc/sys/net/core/somaxconn");
    private static final Path SYN_BACKLOG = Path.of("/proc/sys/net/ipv4/tcp_max_syn_backlog");

    private final Map<Path, String> previous = new LinkedHashMap<>();
    private final StringBuilder description = new StringBuilder();

    private ListenQueueTuning() {
    }

    static ListenQueueTuning raiseTo(int size) {
        ListenQueueTuning t = new ListenQueueTuning();
        t.raise(SOMAXCONN, size);
        t.raise(SYN_BACKLOG, size);
        return t;
    }

    private void raise(Path setting, int size) {
        String name = setting.toString().substring("/proc/sys/".length()).replace('/', '.');
        try {
            // Not Files.readString: procfs reports a size of 0, and that read returned only the first byte here.
            String before = Files.readAllLines(setting).get(0).trim();
            if (Long.parseLong(before) >= size) {
                append(name + " " + before + " (left as is)");
                return;
            }
            Files.writeString(setting, Integer.toString(size));
            previous.put(setting, before);
            append(name + " " + before + " → " + size);
        } catch (IOException | RuntimeException e) {
            append(name + " not raised (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
        }
    }

    private void append(String text) {
        description.append(description.length() == 0 ? "" : ", ").append(text);
    }

    String describe() {
        return description.toString();
    }

    @Override
    public void close() {
        previous.forEach((setting, value) -> {
            try {
                Files.writeString(setting, value);
            } catch (IOException e) {
                System.err.println("could not restore " + setting + " to " + value + ": " + e);
            }
        });
    }
}
