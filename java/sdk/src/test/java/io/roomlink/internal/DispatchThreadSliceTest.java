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

/** Pool threads configured for a short slice ask the kernel for it, each for itself, as they start. */
class DispatchThreadSliceTest {

    @Test
    void poolThreadsRunWithTheSliceTheyAskedFor() throws Exception {
        assumeTrue(customSlicesSupported(), "kernel before 6.12: no custom scheduling slices");
        String prefix = "rl-slice-test-"; // 15 bytes with the index: the whole name fits in comm
        new DispatchExecutor(prefix, 2, DispatchPool.latencySlice(150));
        long deadline = System.nanoTime() + 10_000_000_000L; // each thread asks as it starts
        Map<String, Long> slices;
        do {
            slices = slices(prefix);
        } while (!(slices.size() == 2 && slices.values().stream().allMatch(s -> s == 150_000L))
                && System.nanoTime() < deadline && pause());
        assertEquals(2, slices.size(), "pool threads: " + slices);
        for (Map.Entry<String, Long> e : slices.entrySet()) {
            assertEquals(150_000L, e.getValue(), e.getKey() + ": se.slice (ns)");
        }
        Map<String, Long> self = slices(Thread.currentThread().getName());
        assertFalse(self.containsValue(150_000L), "the creating thread kept its own slice: " + self);
    }

    private static boolean pause() {
        java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
        return true;
    }

    /** tid:name → se.slice of every thread of this process whose name starts with {@code prefix}. */
    private static Map<String, Long> slices(String prefix) throws IOException {
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
