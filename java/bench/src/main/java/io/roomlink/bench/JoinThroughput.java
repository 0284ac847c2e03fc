package io.roomlink.bench;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Joins per second that one server node accepts: engines spread over several client JVMs, created
 * beforehand, then all told to join at once, each JVM as fast as it can, after a warm-up round. Rate = joins that
 * succeeded / (last onJoinChannel(0) − first joinChannel() call), across all JVMs (one clock).
 */
final class JoinThroughput extends Scenario {
    @Override
    String id() {
        return "throughput";
    }

    @Override
    String title() {
        return "join throughput";
    }

    @Override
    void run(Bench bench) throws Exception {
        int workers = bench.size(2, 4);
        int perWorker = bench.size(250, 2500);
        int perChannel = 10;
        int total = workers * perWorker;
        int warmup = bench.size(100, perWorker);
        int warmupRounds = bench.size(1, 3);
        int window = Integer.getInteger("bench.joinWindow", 100);
        config.put("joinsInFlightPerJvm", window);
        config.put("clientJvms", workers);
        config.put("enginesPerJvm", perWorker);
        config.put("perChannel", perChannel);
        config.put("warmup", warmupRounds + " round(s) of " + warmup + " joins per JVM, all left before the next");
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
            // warm-up round uses other uids and channels and is gone (all left) before the measured round starts.
            long warmBase = 1 + (long) workers * perWorker;
            for (int round = 0; round < warmupRounds; round++) {
                long base = warmBase + (long) round * workers * warmup;
                cluster.all(i -> "create " + warmup + " " + (base + (long) i * warmup) + knobs, Duration.ofSeconds(300));
                List<Map<String, String>> warm = cluster.all("join " + perChannel + " warm" + round + "- " + Cluster.SECRET
                        + " 120000 " + window, Duration.ofSeconds(240));
                long warmOk = warm.stream().mapToLong(r -> WorkerProcess.asLong(r, "ok")).sum();
                check(warmOk == (long) warmup * workers, "warm-up: joined " + warmOk + " of " + warmup * workers);
                cluster.all("closeall", Duration.ofSeconds(120));
                long drained = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                long left;
                while ((left = WorkerProcess.asLong(cluster.serverStats(false), "sessions")) > 0
                        && System.nanoTime() < drained) {
                    Local.sleepMillis(100);
                }
                check(left == 0, "warm-up: the server still holds " + left + " sessions after every warm-up engine closed");
            }
            cluster.all(i -> "create " + perWorker + " " + (1 + (long) i * perWorker) + knobs, Duration.ofSeconds(300));
            Local.sleepMillis(500);
            long serverTicks = ProcStats.cpuTicks(cluster.server.pid());
            long clientTicks = cluster.totalCpuTicks();
            long[] machine = ProcStats.machineJiffies();
            Map<String, Long> tcpBefore = ProcStats.tcpExt(ProcStats.TCP_TROUBLE);
            long t0 = System.nanoTime();
            List<Map<String, String>> replies = cluster.all("join " + perChannel + " tp- " + Cluster.SECRET + " 120000 "
                    + window, Duration.ofSeconds(240));
            long t1 = System.nanoTime();
            double serverCpu = ProcStats.cpuPercent(serverTicks, ProcStats.cpuTicks(cluster.server.pid()), t1 - t0);
            double clientCpu = ProcStats.cpuPercent(clientTicks, cluster.totalCpuTicks(), t1 - t0);
            double machineBusy = ProcStats.machineBusyPercent(machine, ProcStats.machineJiffies());
            String tcp = ProcStats.tcpDelta(tcpBefore, ProcStats.tcpExt(ProcStats.TCP_TROUBLE));
            long ok = 0;
            long failed = 0;
            long pending = 0;
            StringBuilder why = new StringBuilder();
            long first = Long.MAX_VALUE;
            long last = 0;
            Samples latency = new Samples();
            for (Map<String, String> r : replies) {
                ok += WorkerProcess.asLong(r, "ok");
                failed += WorkerProcess.asLong(r, "failed");
                pending += WorkerProcess.asLong(r, "pending");
                if (!r.getOrDefault("why", "").isEmpty()) {
                    why.append(' ').append(r.get("why"));
                }
                first = Math.min(first, WorkerProcess.asLong(r, "firstCallNs"));
                last = Math.max(last, WorkerProcess.asLong(r, "lastDoneNs"));
                String lat = r.get("latUs");
                if (lat != null && !lat.isEmpty()) {
                    for (String v : lat.split(",")) {
                        latency.add(Long.parseLong(v) / 1000.0);
                    }
                }
            }
            check(ok == total, "joined " + ok + " of " + total + " (failed " + failed + why + ", no answer " + pending + ")");
            long sessions = WorkerProcess.asLong(cluster.serverStats(false), "sessions");
            check(sessions == total, "the server holds " + sessions + " sessions, expected " + total);
            check(last > first, "no join time window");
            double seconds = (last - first) / 1e9;
            double rate = ok / seconds;
            Metric m = add(Metric.of(id(), "join throughput (" + total + " joins from " + workers + " client JVMs, ≤ "
                    + window * workers + " in flight)", "ms", latency));
            m.value = Report.fmt(rate) + " joins/s";
            m.goal("≥ 5,000 joins/s", x -> rate >= 5000);
            m.note("after " + warmupRounds + " warm-up round(s) of " + warmup * workers + " joins (each left before the next); "
                    + "keepalives slowed to 10 s: the join path alone; all " + total + " joined in " + Report.fmt(seconds) + " s; percentiles are the join latency under this "
                    + "burst; server CPU " + Report.fmt(serverCpu) + " % of one core, client JVMs "
                    + Report.fmt(clientCpu) + " %, machine " + Report.fmt(machineBusy) + " % busy (all cores)");
            m.note("machine kernel counters: " + tcp);
            m.extra("joinsPerSecond", rate).extra("seconds", seconds).extra("serverCpuPercentOfOneCore", serverCpu)
                    .extra("clientCpuPercentOfOneCore", clientCpu).extra("machineBusyPercent", machineBusy);
            bench.log("join throughput: %.0f joins/s (%d in %.2f s), server CPU %.0f %%, clients %.0f %%, machine %.0f %%",
                    rate, ok, seconds, serverCpu, clientCpu, machineBusy);
        }
    }
}
