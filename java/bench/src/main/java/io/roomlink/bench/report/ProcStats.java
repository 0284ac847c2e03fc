package io.roomlink.bench.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Reads a process's CPU time, RSS, threads and file descriptors from /proc (Linux). */
public final class ProcStats {
    /** Clock ticks per second of /proc/PID/stat times (USER_HZ; 100 on every Linux we run on). */
    static final long CLK_TCK = clockTicks();

    private ProcStats() {
    }

    /**
     * The whole of a /proc file. (Files.readString trusts the size the file reports, which is 0 or
     * wrong for many /proc files; a stream read to the end is always right.)
     */
    static String read(Path file) throws IOException {
        try (java.io.InputStream in = Files.newInputStream(file)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** utime + stime of the process, in clock ticks; -1 if it is gone. */
    public static long cpuTicks(long pid) {
        long[] split = cpuTicksSplit(pid);
        return split == null ? -1 : split[0] + split[1];
    }

    /** A process's CPU time so far as {user, kernel} clock ticks; null if unknown. */
    public static long[] cpuTicksSplit(long pid) {
        try {
            String stat = read(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // after "pid (comm) ": state is field 3, so utime (14) and stime (15) are at 11 and 12
            return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12])};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** A field of /proc/PID/status in kB (VmRSS, VmHWM) or as a count (Threads); -1 if unknown. */
    static long status(long pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith(field + ":")) {
                    String v = line.substring(field.length() + 1).trim();
                    int space = v.indexOf(' ');
                    return Long.parseLong(space > 0 ? v.substring(0, space) : v);
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone
        }
        return -1;
    }

    public static long rssKb(long pid) {
        return status(pid, "VmRSS");
    }

    public static long threads(long pid) {
        return status(pid, "Threads");
    }

    /** Threads of the process whose OS name (comm, at most 15 characters) starts with {@code prefix}. */
    public static long threadsNamed(long pid, String prefix) {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            return tasks.filter(t -> {
                try {
                    return read(t.resolve("comm")).startsWith(prefix);
                } catch (IOException gone) {
                    return false;
                }
            }).count();
        } catch (IOException e) {
            return -1;
        }
    }

    /** The open-files limit of a process ("self" or a pid) as {soft, hard}, e.g. {"20000", "20000"}; null if unknown. */
    public static String[] openFilesLimit(String process) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/" + process + "/limits"))) {
                if (l.startsWith("Max open files")) {
                    String[] f = l.substring("Max open files".length()).trim().split("\\s+");
                    return new String[] {f[0], f[1]};
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown
        }
        return null;
    }

    public static long openFds(long pid) {
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return fds.count();
        } catch (IOException e) {
            return -1;
        }
    }

    /** Busy and total jiffies of the whole machine (/proc/stat "cpu" line). */
    public static long[] machineJiffies() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {
                total += Long.parseLong(f[i]);
            }
            long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
            long steal = f.length > 8 ? Long.parseLong(f[8]) : 0;
            return new long[] {total - idle, total, steal};
        } catch (IOException | RuntimeException e) {
            return new long[] {0, 0, 0};
        }
    }

    /**
     * Time the hypervisor ran something else while this VM's vCPUs wanted to run (% of all cores),
     * between two readings of {@link #machineJiffies}: on a shared VM, latency no code here can remove.
     */
    public static double machineStealPercent(long[] before, long[] after) {
        long total = after[1] - before[1];
        return total <= 0 ? Double.NaN : (after[2] - before[2]) * 100.0 / total;
    }

    /** CPU use between two readings of {@link #cpuTicks}, in % of one core. */
    public static double cpuPercent(long ticksBefore, long ticksAfter, long nanos) {
        if (ticksBefore < 0 || ticksAfter < 0 || nanos <= 0) {
            return Double.NaN;
        }
        return (ticksAfter - ticksBefore) * 100.0 / CLK_TCK / (nanos / 1e9);
    }

    /** Machine CPU busy % (all cores = 100 %) between two readings of {@link #machineJiffies}. */
    public static double machineBusyPercent(long[] before, long[] after) {
        long total = after[1] - before[1];
        return total <= 0 ? Double.NaN : (after[0] - before[0]) * 100.0 / total;
    }

    /**
     * Machine-wide kernel counters: TCP ones from /proc/net/netstat (TcpExt: ListenOverflows,
     * TCPSynRetrans, ...) and /proc/net/snmp (Tcp: ActiveOpens, AttemptFails, OutRsts, ...), UDP
     * ones from /proc/net/snmp (Udp: RcvbufErrors, ...); -1 if unknown.
     */
    public static java.util.Map<String, Long> tcpExt(String... names) {
        java.util.Map<String, Long> out = new java.util.LinkedHashMap<>();
        for (String n : names) {
            out.put(n, -1L);
        }
        readCounters(Path.of("/proc/net/netstat"), "TcpExt:", out);
        readCounters(Path.of("/proc/net/snmp"), "Tcp:", out);
        readCounters(Path.of("/proc/net/snmp"), "Udp:", out);
        return out;
    }

    /** Fills the keys of {@code out} found in the header/value line pair starting with {@code prefix}. */
    private static void readCounters(Path file, String prefix, java.util.Map<String, Long> out) {
        try {
            List<String> lines = Files.readAllLines(file).stream().filter(l -> l.startsWith(prefix)).toList();
            String[] keys = lines.get(0).split("\\s+");
            String[] values = lines.get(1).split("\\s+");
            for (int i = 1; i < keys.length && i < values.length; i++) {
                if (out.containsKey(keys[i])) {
                    out.put(keys[i], Long.parseLong(values[i]));
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown
        }
    }

    /** What happened to the counters between two {@link #tcpExt} readings, as "name +delta, ...". */
    public static String tcpDelta(java.util.Map<String, Long> before, java.util.Map<String, Long> after) {
        StringBuilder sb = new StringBuilder();
        before.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append(" +")
                .append(after.getOrDefault(k, v) - v));
        return sb.toString();
    }

    public static final String[] TCP_TROUBLE = {"ListenOverflows", "ListenDrops", "TCPSynRetrans", "RcvbufErrors"};

    static String loadAverage() {
        try {
            String[] f = read(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    private static long clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            List<String> out = new String(p.getInputStream().readAllBytes()).lines().toList();
            p.waitFor();
            return Long.parseLong(out.get(0).trim());
        } catch (IOException | RuntimeException e) {
            return 100;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 100;
        }
    }
}
