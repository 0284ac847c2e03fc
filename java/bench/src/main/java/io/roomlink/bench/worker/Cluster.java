package io.roomlink.bench.worker;

import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.CheckFailed;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.report.ProcStats;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * A room server in its own JVM ({@link ServerWorker}) and client JVMs ({@link ClientWorker}),
 * for the scenarios with many engines: the server and the clients never share a heap or a GC.
 */
public final class Cluster implements AutoCloseable {
    public static final String SECRET = "bench-secret";

    private final Bench bench;
    private final String name;
    public final List<WorkerProcess> clients = new ArrayList<>();
    public WorkerProcess server;
    public int signalPort;
    int mediaPort;
    private int serverGeneration;
    private List<String> serverOptions = List.of();

    public Cluster(Bench bench, String name) {
        this.bench = bench;
        this.name = name;
    }

    /** Starts the server on the given ports (0 = ephemeral); fails the checks if it cannot bind. */
    public Map<String, String> startServer(int signal, int media, List<String> options) throws IOException {
        this.serverOptions = options;
        List<String> args = new ArrayList<>(List.of("--signal-port", String.valueOf(signal), "--media-port",
                String.valueOf(media), "--token-secret", SECRET));
        args.addAll(options);
        List<String> jvmArgs = new ArrayList<>(List.of("-Xmx4g", "-Xms256m"));
        jvmArgs.addAll(extraServerJvmArgs());
        server = WorkerProcess.start(bench, name + "-server-" + (++serverGeneration), ServerWorker.class.getName(),
                jvmArgs, args);
        Map<String, String> up = server.reply(Duration.ofSeconds(60));
        CheckFailed.check("@listening".equals(up.get("@")), "server did not start: " + up);
        signalPort = Integer.parseInt(up.get("signal"));
        mediaPort = Integer.parseInt(up.get("media"));
        return up;
    }

    /**
     * Extra flags for the server JVM from the environment variable {@code ROOMLINK_BENCH_SERVER_JVM_ARGS}
     * (space-separated), for profiling it in place, e.g. {@code -XX:StartFlightRecording=...}; none by default.
     * "%g" in a flag becomes the cluster name and server generation (e.g. "storm-relaxed-2"), so recordings of a
     * restarted server do not overwrite the first one's.
     */
    private List<String> extraServerJvmArgs() {
        String env = System.getenv("ROOMLINK_BENCH_SERVER_JVM_ARGS");
        List<String> flags = new ArrayList<>();
        if (env != null) {
            for (String flag : env.trim().split("\\s+")) {
                if (!flag.isEmpty()) {
                    flags.add(flag.replace("%g", name + "-" + (serverGeneration + 1)));
                }
            }
        }
        return flags;
    }

    /** A new server on the same ports as before, retrying while the old ports are still held; returns when it listens. */
    public void restartServerSamePorts(Duration patience) throws IOException {
        long deadline = System.nanoTime() + patience.toNanos();
        while (true) {
            try {
                startServer(signalPort, mediaPort, serverOptions);
                return;
            } catch (CheckFailed e) {
                server.kill();
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Local.sleepMillis(100);
            }
        }
    }

    public Map<String, String> serverStats(boolean gc) {
        return server.call(gc ? "stats gc" : "stats", Duration.ofSeconds(120));
    }

    /** Starts {@code count} client JVMs and loads the SDK in each ("init"). */
    public void startClients(int count, String maxHeap, boolean timeCallbacks) throws IOException {
        for (int i = 0; i < count; i++) {
            clients.add(WorkerProcess.start(bench, name + "-client-" + (clients.size() + 1), ClientWorker.class.getName(),
                    List.of(maxHeap), List.of()));
        }
        all(i -> timeCallbacks ? "init cb" : "init", Duration.ofSeconds(60));
    }

    /**
     * Starts {@code count} client JVMs that speak the wire protocol themselves ({@link WireClientWorker}), for
     * loads the SDK engines' own CPU would cap before the server's.
     */
    public void startWireClients(int count, String maxHeap) throws IOException {
        for (int i = 0; i < count; i++) {
            clients.add(WorkerProcess.start(bench, name + "-wire-" + (clients.size() + 1),
                    WireClientWorker.class.getName(), List.of(maxHeap), List.of()));
        }
    }

    /** Sends one command to every client (all first, then reads the replies: they work in parallel). */
    public List<Map<String, String>> all(IntFunction<String> command, Duration timeout) {
        for (int i = 0; i < clients.size(); i++) {
            clients.get(i).send(command.apply(i));
        }
        List<Map<String, String>> replies = new ArrayList<>();
        for (WorkerProcess c : clients) {
            replies.add(c.reply(timeout));
        }
        return replies;
    }

    public List<Map<String, String>> all(String command, Duration timeout) {
        return all(i -> command, timeout);
    }

    /** Every JVM's System.nanoTime() must be this one's (CLOCK_MONOTONIC), or cross-JVM times are meaningless. */
    public void checkClocks() {
        List<WorkerProcess> everyone = new ArrayList<>(clients);
        if (server != null) {
            everyone.add(server);
        }
        for (WorkerProcess w : everyone) {
            long before = System.nanoTime();
            long theirs = WorkerProcess.asLong(w.call("clock", Duration.ofSeconds(30)), "ns");
            long after = System.nanoTime();
            CheckFailed.check(theirs >= before && theirs <= after, w.name + ": its System.nanoTime() is not ours");
        }
    }

    /** The engine knobs as "create" arguments. */
    public static String knobs(Map<String, Integer> knobs) {
        StringBuilder sb = new StringBuilder();
        knobs.forEach((k, v) -> sb.append(' ').append(k).append('=').append(v));
        return sb.toString();
    }

    public long totalCpuTicks() {
        long sum = 0;
        for (WorkerProcess c : clients) {
            sum += Math.max(0, ProcStats.cpuTicks(c.pid()));
        }
        return sum;
    }

    @Override
    public void close() {
        for (WorkerProcess c : clients) {
            c.close();
        }
        clients.clear();
        if (server != null) {
            server.close();
        }
    }

    Bench bench() {
        return bench;
    }
}
