package io.roomlink.bench.harness;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Settings and shared state of one suite run. */
public final class Bench {
    public final boolean quick;
    public final Path outDir;
    public final Path logDir;
    public final long startNanos = System.nanoTime();
    /** Results one scenario leaves for a later one (the capacity reached, for the storm). */
    public final Map<String, Object> shared = new HashMap<>();

    public Bench(boolean quick, Path outDir) {
        this.quick = quick;
        this.outDir = outDir;
        this.logDir = outDir.resolve("logs");
    }

    /** {@code quickValue} in --quick mode, else {@code fullValue}. */
    public int size(int quickValue, int fullValue) {
        return quick ? quickValue : fullValue;
    }

    public void log(String format, Object... args) {
        System.out.printf("[%6.1f s] %s%n", (System.nanoTime() - startNanos) / 1e9, String.format(format, args));
        System.out.flush();
    }

    /** The java launcher of this JVM, for child JVMs. */
    public static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The classpath to give child JVMs (this JVM's, as Maven or the test set it up). */
    public static String classpath() {
        String cp = System.getProperty("bench.classpath");
        if (cp == null || cp.isBlank()) {
            cp = System.getProperty("java.class.path");
        }
        return cp;
    }

    /**
     * Whether the keepalive profile ("defaults", "relaxed") of the capacity and storm scenarios should
     * run: all unless the system property {@code bench.profiles} lists some, for a focused run (a full
     * storm of 10,000 clients with default keepalives cannot settle on a 2-core box, and it would stop
     * the scenario before its relaxed row).
     */
    public static boolean profileWanted(String profile) {
        String wanted = System.getProperty("bench.profiles");
        return wanted == null || wanted.isBlank() || List.of(wanted.split(",")).contains(profile);
    }

    public static List<String> childJvmBaseArgs() {
        return List.of("-Djna.nosys=true", "-XX:+UseG1GC", "-Xss512k");
    }
}
