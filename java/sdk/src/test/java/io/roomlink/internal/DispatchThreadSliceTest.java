package io.roomlink.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The dispatch threads ask the kernel for the short slice that lets them run as soon as an event wakes them. */
class DispatchThreadSliceTest {

    @Test
    void everyDispatchThreadRunsWithTheDefaultShortSlice() throws Exception {
        assumeTrue(customSlicesSupported(), "kernel before 6.12: no custom scheduling slices");
        int threads = DispatchPool.size(); // starts the pool
        long deadline = System.nanoTime() + 10_000_000_000L; // each thread sets its slice as it starts
        Map<String, Long> slices;
        do {
            slices = dispatchThreadSlices();
        } while (!(slices.size() == threads && slices.values().stream().allMatch(s -> s == 100_000L))
                && System.nanoTime() < deadline && pause());
        assertFalse(slices.isEmpty(), "no dispatch thread found in /proc/self/task");
        assertEquals(threads, slices.size(), "dispatch threads: " + slices);
        for (Map.Entry<String, Long> e : slices.entrySet()) {
            assertEquals(100_000L, e.getValue(), e.getKey() + ": se.slice (ns)");
        }
    }

    private static boolean pause() {
        java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
        return true;
    }

    /** tid:name → se.slice of every thread whose name starts like the pool's (names are cut to 15 bytes). */
    private static Map<String, Long> dispatchThreadSlices() throws IOException {
        String prefix = DispatchPool.THREAD_NAME_PREFIX.substring(0, 15);
        Map<String, Long> slices = new TreeMap<>();
        List<Path> tasks = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/self/task"))) {
            s.forEach(tasks::add);
        }
        for (Path task : tasks) {
            String name;
            List<String> sched;
            try {
                name = Files.readAllLines(task.resolve("comm")).get(0);
                sched = Files.readAllLines(task.resolve("sched"));
            } catch (IOException e) {
                continue; // the thread ended meanwhile
            }
            if (!name.startsWith(prefix)) {
                continue;
            }
            for (String line : sched) {
                if (line.startsWith("se.slice")) {
                    slices.put(task.getFileName() + ":" + name, Long.parseLong(line.substring(line.indexOf(':') + 1).trim()));
                }
            }
        }
        return slices;
    }

    private static boolean customSlicesSupported() {
        String[] v = System.getProperty("os.version", "0.0").split("[.-]");
        try {
            int major = Integer.parseInt(v[0]);
            int minor = v.length > 1 ? Integer.parseInt(v[1]) : 0;
            return Files.exists(Path.of("/proc/self/sched")) && (major > 6 || (major == 6 && minor >= 12));
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
