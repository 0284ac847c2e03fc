package io.roomlink.bench.report;

import io.roomlink.RoomEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;

/** What the results were measured on: recorded with every run. */
public final class Machine {
    private Machine() {
    }

    public static Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("date", OffsetDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("cpu", cpuModel());
        m.put("memTotalMiB", memTotalKb() / 1024);
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        m.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
                + " (" + System.getProperty("java.vm.vendor") + ")");
        m.put("jvmArgs", String.join(" ", java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()));
        m.put("nativeCore", safeNativeVersion());
        m.put("loadAverageAtStart", ProcStats.loadAverage());
        m.put("openFilesLimit", ulimit());
        m.put("source", gitDescription());
        m.put("ephemeralPorts", read("/proc/sys/net/ipv4/ip_local_port_range").replace('\t', '-'));
        return m;
    }

    public static String oneLine(Map<String, Object> m) {
        return m.get("cores") + " cores (" + m.get("cpu") + "), " + m.get("memTotalMiB") + " MiB, " + m.get("os")
                + ", " + m.get("jvm") + ", load " + m.get("loadAverageAtStart") + ", " + m.get("date");
    }

    /** The commit measured, and whether the work tree had changes on top of it. */
    private static String gitDescription() {
        try {
            Process p = new ProcessBuilder("git", "rev-parse", "--short", "HEAD").redirectErrorStream(true).start();
            String head = new String(p.getInputStream().readAllBytes()).trim();
            if (p.waitFor() != 0) {
                return "unknown (no git)";
            }
            Process st = new ProcessBuilder("git", "status", "--porcelain", "--untracked-files=no")
                    .redirectErrorStream(true).start();
            String changes = new String(st.getInputStream().readAllBytes()).trim();
            st.waitFor();
            return head + (changes.isEmpty() ? "" : " + uncommitted changes");
        } catch (IOException e) {
            return "unknown (no git)";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    private static String safeNativeVersion() {
        try {
            return RoomEngine.nativeVersion();
        } catch (Throwable t) {
            return "unavailable: " + t;
        }
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst().orElse("?");
        } catch (IOException e) {
            return "?";
        }
    }

    private static long memTotalKb() {
        try {
            return Files.readAllLines(Path.of("/proc/meminfo")).stream()
                    .filter(l -> l.startsWith("MemTotal:"))
                    .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")))
                    .findFirst().orElse(0L);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static String read(String file) {
        try {
            return ProcStats.read(Path.of(file)).trim();
        } catch (IOException e) {
            return "?";
        }
    }

    private static String ulimit() {
        String[] limit = ProcStats.openFilesLimit("self");
        return limit == null ? "?"
                : "soft " + limit[0] + ", hard " + limit[1] + " (child JVMs ask for more; only up to the hard limit)";
    }
}
