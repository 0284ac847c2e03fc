package io.roomlink.bench.scenario;

import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.report.Metric;
import io.roomlink.bench.report.Report;
import io.roomlink.bench.worker.Cluster;
import io.roomlink.bench.worker.WorkerProcess;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * 1,000 engines joined in one client JVM (the server in another): the JVM's threads (native loop
 * threads and dispatch threads must not grow with the engines) and memory per engine. The same
 * JVM times its callbacks during the join burst.
 */
final class ClientFootprint extends Scenario {
    ClientFootprint() {
        super("footprint", "client footprint");
    }

    @Override
    public void run(Bench bench) throws Exception {
        int engines = bench.size(100, 1000);
        int perChannel = 10;
        config.put("engines", engines);
        config.put("perChannel", perChannel);
        config.put("clientJvm", "-Xmx1g, roomlink.loopThreads and roomlink.dispatchThreads at their defaults (2, 2)");
        config.put("engine", "defaults, joinTimeout 60 s");
        try (Cluster cluster = new Cluster(bench, "footprint")) {
            cluster.startServer(0, 0, List.of());
            cluster.startClients(1, "-Xmx1g", true);
            WorkerProcess client = cluster.clients.get(0);
            Map<String, String> base = client.call("sample gc", Duration.ofSeconds(60));
            client.call("create " + engines + " 1 127.0.0.1 " + cluster.signalPort + " joinTimeout=60000",
                    Duration.ofSeconds(120));
            Map<String, String> created = client.call("sample gc", Duration.ofSeconds(60));
            Map<String, String> joined = client.call("join " + perChannel + " fp- " + Cluster.SECRET + " 120000",
                    Duration.ofSeconds(180));
            check(WorkerProcess.asLong(joined, "ok") == engines, "joined " + joined.get("ok") + " of " + engines
                    + " (failed " + joined.get("failed") + ", pending " + joined.get("pending") + ")");
            Local.sleepMillis(2000); // presence settles, keepalives run
            Map<String, String> status = client.call("status core", Duration.ofSeconds(60));
            check(WorkerProcess.asLong(status, "coreConnected") == engines,
                    "only " + status.get("coreConnected") + " of " + engines + " engines are CONNECTED");
            long sessions = WorkerProcess.asLong(cluster.serverStats(false), "sessions");
            check(sessions == engines, "the server holds " + sessions + " sessions, expected " + engines);
            Map<String, String> after = client.call("sample gc", Duration.ofSeconds(60));
            Map<String, String> cb = client.call("cbstats", Duration.ofSeconds(60));

            long threads = WorkerProcess.asLong(after, "threads");
            long loop = WorkerProcess.asLong(after, "loopThreads");
            long dispatch = WorkerProcess.asLong(after, "dispatchThreads");
            long baseThreads = WorkerProcess.asLong(base, "threads");
            check(loop > 0, "no native loop thread found: the thread census is broken");
            boolean bounded = loop <= 4 && dispatch <= 2; // the pool's configured size (default 2)
            add(Metric.value(id(), "client threads, " + engines + " engines joined in one JVM", "threads",
                    threads + " JVM threads (" + loop + " native loop, " + dispatch + " dispatch)", engines)
                    .goal("≤ 4 native loop threads and a bounded dispatch pool", m -> bounded)
                    .note("threads before the first engine (runtime up): " + baseThreads + "; after " + engines
                            + " engines joined: " + threads)
                    .extra("threadsBefore", baseThreads).extra("threadsAfter", threads)
                    .extra("loopThreads", loop).extra("dispatchThreads", dispatch));

            double rssPer = (WorkerProcess.asLong(after, "rssKb") - WorkerProcess.asLong(base, "rssKb")) / (double) engines;
            double heapPer = (WorkerProcess.asLong(after, "heapUsed") - WorkerProcess.asLong(base, "heapUsed")) / 1024.0 / engines;
            double rssCreatedPer = (WorkerProcess.asLong(created, "rssKb") - WorkerProcess.asLong(base, "rssKb"))
                    / (double) engines;
            long fdsPer = (WorkerProcess.asLong(after, "fds") - WorkerProcess.asLong(base, "fds")) / engines;
            add(Metric.value(id(), "client memory per joined engine", "KiB",
                    "RSS +" + Report.fmt(rssPer) + " KiB, Java heap +" + Report.fmt(heapPer) + " KiB", engines)
                    .goalText("report native RSS per engine")
                    .note("RSS growth from before the first engine to " + engines + " joined (after a GC); created but "
                            + "not joined: RSS +" + Report.fmt(rssCreatedPer) + " KiB; " + fdsPer + " fds per engine")
                    .extra("rssKbPerEngine", rssPer).extra("heapKbPerEngine", heapPer)
                    .extra("rssKbBefore", WorkerProcess.asLong(base, "rssKb"))
                    .extra("rssKbAfter", WorkerProcess.asLong(after, "rssKb")));

            Metric m = new Metric(id(), "callback latency during a " + engines + "-engine join burst (client JVM)", "µs");
            m.n = (int) WorkerProcess.asLong(cb, "n");
            check(m.n > 0, "no callback was timed");
            m.p50 = WorkerProcess.asDouble(cb, "p50");
            m.p95 = WorkerProcess.asDouble(cb, "p95");
            m.p99 = WorkerProcess.asDouble(cb, "p99");
            m.max = WorkerProcess.asDouble(cb, "max");
            m.goalText("report (under load; the p99 ≤ 200 µs goal is the callback latency row)");
            m.note("every callback of " + engines + " engines joining at once into channels of " + perChannel
                    + ": a backlog on 2 dispatch threads");
            add(m);
            bench.log("footprint: %d threads (%d loop, %d dispatch), RSS +%.1f KiB/engine, heap +%.1f KiB/engine",
                    threads, loop, dispatch, rssPer, heapPer);
        }
    }
}
