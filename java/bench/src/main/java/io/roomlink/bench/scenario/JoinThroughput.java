package io.roomlink.bench.scenario;

import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.report.Metric;
import io.roomlink.bench.report.ProcStats;
import io.roomlink.bench.report.Report;
import io.roomlink.bench.report.Samples;
import io.roomlink.bench.worker.Cluster;
import io.roomlink.bench.worker.WireClientWorker;
import io.roomlink.bench.worker.WorkerProcess;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Joins per second that one server node accepts, measured twice, each against a fresh server in its own JVM:
 * <ul>
 * <li>by SDK engines spread over several client JVMs: the end-to-end figure, but on 2 cores the engines' own CPU
 * competes with the server's and sets the rate;</li>
 * <li>by {@link WireClientWorker}s, which speak the wire protocol from one selector thread each (TCP connect, JOIN,
 * JOIN_OK, media BIND, BIND_ACK): what the server itself accepts when its clients cost little.</li>
 * </ul>
 * Either way, sessions are prepared beforehand, then all told to join at once with a bounded number in flight per
 * JVM, after warm-up rounds whose sessions have left again. Rate = joins that succeeded / (last JOIN_OK − first join
 * call), across all JVMs (one clock).
 */
final class JoinThroughput extends Scenario {
    private static final int PER_CHANNEL = 10;
    /** JIT compile time per warm-up round below which the server counts as warm. */
    private static final long JIT_SETTLED_MS = 100;

    JoinThroughput() {
        super("throughput", "join throughput");
    }

    @Override
    public void run(Bench bench) throws Exception {
        engines(bench);
        wireClients(bench);
    }

    private void engines(Bench bench) throws Exception {
        int workers = bench.size(2, 4);
        int perWorker = bench.size(250, 2500);
        int total = workers * perWorker;
        int warmup = bench.size(100, perWorker);
        int window = Integer.getInteger("bench.joinWindow", 100);
        config.put("joinsInFlightPerJvm", window);
        config.put("clientJvms", workers);
        config.put("enginesPerJvm", perWorker);
        config.put("perChannel", PER_CHANNEL);
        config.put("warmup", "rounds of " + warmup + " joins per JVM, all left before the next, until the server's JIT "
                + "compilers are done (see warmUp)");
        config.put("engine", "joinTimeout 60 s; keepalives 10 s (timeouts 30 s) so that joined sessions add no load; "
                + "server idle timeout 30 s");
        try (Cluster cluster = new Cluster(bench, "throughput")) {
            // Joined sessions keep alive; at the default rates their pings would soon be the server's whole load
            // (see the capacity rows), so this measures joins with keepalives slowed down to 10 s.
            cluster.startServer(0, 0, List.of("--idle-timeout-ms", "30000"));
            cluster.startClients(workers, "-Xmx1g", false);
            String knobs = " 127.0.0.1 " + cluster.signalPort
                    + " joinTimeout=60000 signalKeepalive=10000 signalTimeout=30000 mediaKeepalive=10000 mediaTimeout=30000";
            cluster.checkClocks();
            // A server node runs for days: measure its steady state, not its JIT compiler's first seconds. The
            // warm-up rounds use other uids and channels and are gone (all left) before the measured round starts.
            long warmBase = 1 + (long) workers * perWorker;
            int rounds = warmUp(bench, cluster, round -> {
                long base = warmBase + (long) round * workers * warmup;
                cluster.all(i -> "create " + warmup + " " + (base + (long) i * warmup) + knobs, Duration.ofSeconds(300));
                Round warm = Round.of(cluster.all("join " + PER_CHANNEL + " warm" + round + "- " + Cluster.SECRET
                        + " 120000 " + window, Duration.ofSeconds(240)));
                check(warm.ok == (long) warmup * workers, "warm-up: joined " + warm.ok + " of " + warmup * workers);
                cluster.all("closeall", Duration.ofSeconds(120));
            });
            cluster.all(i -> "create " + perWorker + " " + (1 + (long) i * perWorker) + knobs, Duration.ofSeconds(300));
            Local.sleepMillis(500);
            Measured r = measure(cluster, () -> cluster.all("join " + PER_CHANNEL + " tp- " + Cluster.SECRET + " 120000 "
                    + window, Duration.ofSeconds(240)));
            check(r.round.ok == total, "joined " + r.round.summary(total));
            checkServerHolds(cluster, total);
            Metric m = r.metric(this, "join throughput, SDK engines (" + total + " joins from " + workers
                    + " client JVMs, ≤ " + window * workers + " in flight)");
            m.note("after " + rounds + " warm-up round(s) of " + warmup * workers + " joins (each left before the "
                    + "next); keepalives slowed to 10 s: the join path alone; percentiles are the join latency under "
                    + "this burst; " + r.cpu());
            m.note("machine kernel counters: " + r.tcp);
            bench.log("join throughput (engines): %.0f joins/s (%d in %.2f s), %s", r.rate, r.round.ok, r.seconds, r.cpu());
        }
    }

    private void wireClients(Bench bench) throws Exception {
        int workers = 2;
        int perWorker = bench.size(500, 5000);
        int total = workers * perWorker;
        int window = Integer.getInteger("bench.joinWindow", 100);
        config.put("wire.clientJvms", workers);
        config.put("wire.sessionsPerJvm", perWorker);
        config.put("wire.joinsInFlightPerJvm", window);
        config.put("wire.warmup", "rounds of " + perWorker + " joins per JVM, as for the engines");
        try (Cluster cluster = new Cluster(bench, "throughput-wire")) {
            // Nothing pings here: the idle timeout only has to outlast a round.
            cluster.startServer(0, 0, List.of("--idle-timeout-ms", "60000"));
            cluster.startWireClients(workers, "-Xmx1g");
            cluster.checkClocks();
            String target = " 127.0.0.1 " + cluster.signalPort + " " + PER_CHANNEL;
            long warmBase = 1 + (long) total;
            int rounds = warmUp(bench, cluster, round -> {
                long base = warmBase + (long) round * total;
                String prefix = " wwarm" + round + "- ";
                Round warm = Round.of(cluster.all(i -> "join " + perWorker + " " + (base + (long) i * perWorker) + target
                        + prefix + Cluster.SECRET + " 60000 " + window, Duration.ofSeconds(120)));
                check(warm.ok == total && warm.bound == total, "warm-up: " + warm.summary(total));
                cluster.all("leaveall", Duration.ofSeconds(60));
            });
            Measured r = measure(cluster, () -> cluster.all(i -> "join " + perWorker + " " + (1 + (long) i * perWorker)
                    + target + " wtp- " + Cluster.SECRET + " 60000 " + window, Duration.ofSeconds(120)));
            check(r.round.ok == total && r.round.bound == total, "wire clients: " + r.round.summary(total));
            checkServerHolds(cluster, total);
            Metric m = r.metric(this, "join throughput, server node (" + total + " wire-protocol joins from " + workers
                    + " load JVMs, ≤ " + window * workers + " in flight)");
            m.note("each join: TCP connect, JOIN with a signed token, JOIN_OK, media BIND until BIND_ACK (all "
                    + r.round.bound + " bound); load generators speak the protocol from one selector thread each, "
                    + "so the server, not the clients, sets the rate; after " + rounds + " warm-up round(s) of " + total
                    + " joins; "
                    + r.cpu());
            m.note("machine kernel counters: " + r.tcp);
            bench.log("join throughput (wire): %.0f joins/s (%d in %.2f s), %s", r.rate, r.round.ok, r.seconds, r.cpu());
        }
    }

    /** Warm-up rounds (each followed by every session leaving) until the server's JIT compilers are done. */
    private int warmUp(Bench bench, Cluster cluster, java.util.function.IntConsumer round) {
        return JitWarmUp.run(bench, "server", bench.size(1, 3), bench.size(1, 12), JIT_SETTLED_MS, () -> jitMillis(cluster),
                i -> {
                    round.accept(i);
                    awaitNoSessions(cluster);
                });
    }

    private static long jitMillis(Cluster cluster) {
        return WorkerProcess.asLong(cluster.serverStats(false), "jitMs");
    }

    private void awaitNoSessions(Cluster cluster) {
        long drained = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        long left;
        while ((left = WorkerProcess.asLong(cluster.serverStats(false), "sessions")) > 0 && System.nanoTime() < drained) {
            Local.sleepMillis(100);
        }
        check(left == 0, "warm-up: the server still holds " + left + " sessions after every warm-up session left");
    }

    private void checkServerHolds(Cluster cluster, long total) {
        long sessions = WorkerProcess.asLong(cluster.serverStats(false), "sessions");
        check(sessions == total, "the server holds " + sessions + " sessions, expected " + total);
    }

    private interface JoinCommand {
        List<Map<String, String>> run();
    }

    /** Runs one measured round, with the CPU of the server, of the clients and of the whole machine around it. */
    private Measured measure(Cluster cluster, JoinCommand command) {
        long[] serverTicks = ProcStats.cpuTicksSplit(cluster.server.pid());
        long clientTicks = cluster.totalCpuTicks();
        long[] machine = ProcStats.machineJiffies();
        Map<String, Long> tcpBefore = ProcStats.tcpExt(ProcStats.TCP_TROUBLE);
        long jitBefore = jitMillis(cluster);
        long t0 = System.nanoTime();
        List<Map<String, String>> replies = command.run();
        long t1 = System.nanoTime();
        Measured m = new Measured();
        long[] serverAfter = ProcStats.cpuTicksSplit(cluster.server.pid());
        check(serverTicks != null && serverAfter != null, "the server's CPU time could not be read");
        m.serverCpu = ProcStats.cpuPercent(serverTicks[0] + serverTicks[1], serverAfter[0] + serverAfter[1], t1 - t0);
        m.serverKernelCpu = ProcStats.cpuPercent(serverTicks[1], serverAfter[1], t1 - t0);
        m.clientCpu = ProcStats.cpuPercent(clientTicks, cluster.totalCpuTicks(), t1 - t0);
        m.machineBusy = ProcStats.machineBusyPercent(machine, ProcStats.machineJiffies());
        m.tcp = ProcStats.tcpDelta(tcpBefore, ProcStats.tcpExt(ProcStats.TCP_TROUBLE));
        m.jitMillis = jitMillis(cluster) - jitBefore;
        m.round = Round.of(replies);
        check(m.round.last > m.round.first, "no join time window");
        m.seconds = (m.round.last - m.round.first) / 1e9;
        m.rate = m.round.ok / m.seconds;
        // Idle before and after the round, the server spent its CPU time on these joins.
        m.serverMicrosPerJoin = m.serverCpu / 100 * ((t1 - t0) / 1e3) / m.round.ok;
        return m;
    }

    /** One round's replies from every client JVM, added up. */
    private static final class Round {
        long ok;
        long bound;
        long failed;
        long pending;
        long first = Long.MAX_VALUE;
        long last;
        final StringBuilder why = new StringBuilder();
        final Samples latencyMs = new Samples();

        static Round of(List<Map<String, String>> replies) {
            Round r = new Round();
            for (Map<String, String> reply : replies) {
                r.ok += WorkerProcess.asLong(reply, "ok");
                r.bound += reply.containsKey("bound") ? WorkerProcess.asLong(reply, "bound") : 0;
                r.failed += WorkerProcess.asLong(reply, "failed");
                r.pending += WorkerProcess.asLong(reply, "pending");
                if (!reply.getOrDefault("why", "").isEmpty()) {
                    r.why.append(' ').append(reply.get("why"));
                }
                r.first = Math.min(r.first, WorkerProcess.asLong(reply, "firstCallNs"));
                r.last = Math.max(r.last, WorkerProcess.asLong(reply, "lastDoneNs"));
                String lat = reply.get("latUs");
                if (lat != null && !lat.isEmpty()) {
                    for (String v : lat.split(",")) {
                        r.latencyMs.add(Long.parseLong(v) / 1000.0);
                    }
                }
            }
            return r;
        }

        String summary(long expected) {
            return ok + " of " + expected + " joined, " + bound + " bound (failed " + failed + why + ", no answer "
                    + pending + ")";
        }
    }

    private static final class Measured {
        Round round;
        double seconds;
        double rate;
        double serverCpu;
        double serverKernelCpu;
        double serverMicrosPerJoin;
        double clientCpu;
        double machineBusy;
        long jitMillis;
        String tcp;

        String cpu() {
            return "server CPU " + Report.fmt(serverCpu) + " % of one core (" + Report.fmt(serverKernelCpu)
                    + " % in the kernel), ≈ " + Report.fmt(serverMicrosPerJoin) + " µs per join; client JVMs "
                    + Report.fmt(clientCpu) + " %, machine " + Report.fmt(machineBusy) + " % busy (all cores); server JIT "
                    + "compilers busy " + jitMillis + " ms during the round";
        }

        Metric metric(Scenario scenario, String name) {
            Metric m = scenario.add(Metric.of(scenario.id(), name, "ms", round.latencyMs));
            double joinsPerSecond = rate;
            m.value = Report.fmt(rate) + " joins/s";
            m.goal("≥ 5,000 joins/s", x -> joinsPerSecond >= 5000);
            m.note("all " + round.ok + " joined in " + Report.fmt(seconds) + " s");
            m.extra("joinsPerSecond", rate).extra("seconds", seconds)
                    .extra("serverCpuPercentOfOneCore", serverCpu)
                    .extra("serverKernelCpuPercentOfOneCore", serverKernelCpu).extra("serverCpuMicrosPerJoin", serverMicrosPerJoin).extra("clientCpuPercentOfOneCore", clientCpu)
                    .extra("machineBusyPercent", machineBusy);
            return m;
        }
    }
}
