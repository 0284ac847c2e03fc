package io.roomlink.demo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Prints timestamped lines as they happen and keeps them for a per-user summary at the end. */
final class Timeline {
    private final long startNanos = System.nanoTime();
    private final Map<String, List<String>> byUser = new LinkedHashMap<>();

    synchronized void note(String who, String what) {
        String line = String.format("%+7.1f ms  [%s] %s", (System.nanoTime() - startNanos) / 1e6, who, what);
        System.out.println(line);
        byUser.computeIfAbsent(who, k -> new ArrayList<>()).add(line);
    }

    synchronized void printSummary() {
        System.out.println();
        System.out.println("Timeline per user");
        byUser.forEach((who, lines) -> {
            System.out.println("  " + who + ":");
            lines.forEach(l -> System.out.println("    " + l));
        });
    }
}
