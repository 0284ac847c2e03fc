package io.roomlink.demo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Prints timestamped lines as they happen, and at the end a compact timeline per user: its
 * state changes and the presence changes it was told about.
 */
final class Timeline {
    private final long startNanos = System.nanoTime();
    private final Map<String, List<String>> compact = new LinkedHashMap<>();

    synchronized void note(String who, String what) {
        double ms = (System.nanoTime() - startNanos) / 1e6;
        System.out.println(String.format("%+9.1f ms  [%s] %s", ms, who, what));
        String entry = compactForm(what);
        if (entry != null) {
            compact.computeIfAbsent(who, k -> new ArrayList<>()).add(String.format("%7.2f s %s", ms / 1000, entry));
        }
    }

    synchronized void printSummary() {
        System.out.println();
        System.out.println("Timeline per user (seconds since start)");
        compact.forEach((who, entries) -> {
            System.out.println("  " + who + ":");
            entries.forEach(e -> System.out.println("    " + e));
        });
    }

    private static String compactForm(String what) {
        if (what.startsWith("onConnectionStateChanged(")) {
            return what.substring("onConnectionStateChanged(".length(), what.length() - 1).replace(", ", " / ");
        }
        if (what.startsWith("onUserJoined(") || what.startsWith("onUserLeave(") || what.startsWith("onDisconnect(")) {
            return "  " + what;
        }
        return null;
    }
}
