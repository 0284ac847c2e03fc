package io.roomlink.bench.scenario;

import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.report.Metric;
import io.roomlink.bench.report.ProcStats;
import io.roomlink.bench.report.Report;
import io.roomlink.bench.report.Samples;
import io.roomlink.bench.worker.Cluster;
import io.roomlink.bench.worker.WorkerProcess;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Reconnect storm: N clients (over several client JVMs) lose their server to a crash (SIGKILL of
 * its JVM), which is restarted on the same ports. Every client must notice (RECONNECTING) and come
 * back (CONNECTED, REJOIN_SUCCEED: the new server admits its RESUME as a fresh session). Times are
 * from the moment the new server listens until each client's own REJOIN_SUCCEED callback.
 */
final class Storm extends Scenario {
    Storm() {
        super("storm", "reconnect storm");
    }

    @Override
    public void run(Bench bench) throws Exception {
        config.put("clientJvms", bench.size(2, 4));
        config.put("crash", "SIGKILL of the server JVM, new server JVM on the same ports");
        config.put("joining", "before the crash, at most 100 joins in flight per client JVM");
        config.put("engine.defaults", "defaults, joinTimeout 60 s (keepalives signal 1 s / media 500 ms while healthy, "
                + "50 ms while a PING is overdue; reconnectTimeout 40 s, backoff 250 ms ×2 to 5 s, probes 200 ms jittered, "
                + "refused or not)");
        if (Bench.profileWanted("defaults")) {
            storm(bench, "defaults", "default keepalives", "", List.of());
        }
    }

    private void storm(Bench bench, String profile, String label, String knobs, List<String> serverOptions)
            throws Exception {
        int workers = bench.size(2, 4);
        int wanted = Integer.getInteger("bench.stormClients", bench.size(200, 10000));
        int clients = wanted;
        Object capacity = bench.shared.get("capacity." + profile);
        String capped = null;
        if (capacity instanceof Integer c && c == 0) {
            clients = Math.min(wanted, 250);
            capped = "the capacity scenario held no step with " + label + ": tried with " + clients;
        } else if (capacity instanceof Integer c && c < wanted) {
            clients = c;
            capped = "capped at " + c + ", the idle sessions this box held with " + label + " (server capacity row); "
                    + wanted + " wanted";
        }
        int n = clients;
        config.put("clients." + profile, n);
        try (ListenQueueTuning queues = ListenQueueTuning.raiseTo(16384);
             Cluster cluster = new Cluster(bench, "storm-" + profile)) {
            config.put("listenQueues", queues.describe());
            cluster.startServer(0, 0, serverOptions);
            cluster.startClients(workers, "-Xmx2g", false);
            cluster.checkClocks();
            int[] count = new int[workers];
            long[] firstUid = new long[workers];
            long uid = 1;
            for (int w = 0; w < workers; w++) {
                count[w] = n / workers + (w < n % workers ? 1 : 0);
                firstUid[w] = uid;
                uid += count[w];
            }
            cluster.all(w -> "create " + count[w] + " " + firstUid[w] + " 127.0.0.1 " + cluster.signalPort
                    + " joinTimeout=60000" + knobs, Duration.ofSeconds(600));
            long ok = 0;
            for (Map<String, String> j : cluster.all("join 10 storm- " + Cluster.SECRET + " 120000 100", Duration.ofSeconds(600))) {
                ok += WorkerProcess.asLong(j, "ok");
            }
            check(ok == n, "only " + ok + " of " + n + " clients joined before the storm");
            // The storm starts from a steady state: a window of 3 s without any outage, all CONNECTED (the join
            // burst itself may have shaken a few sessions; they get up to 30 s to settle).
            long stableOutages = -1;
            long connected = 0;
            int windows = 0;
            long settleDeadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < settleDeadline) {
                cluster.all("mark", Duration.ofSeconds(60));
                Local.sleepMillis(bench.quick ? 1000 : 3000);
                windows++;
                stableOutages = 0;
                connected = 0;
                for (Map<String, String> s : cluster.all("status", Duration.ofSeconds(60))) {
                    stableOutages += WorkerProcess.asLong(s, "outages");
                    connected += WorkerProcess.asLong(s, "connected");
                }
                if (stableOutages == 0 && connected == n) {
                    break;
                }
            }
            check(stableOutages == 0 && connected == n, "the clients never held still before the crash: "
                    + stableOutages + " outages in the last window, " + connected + " of " + n + " CONNECTED");
            if (windows > 1) {
                config.put("settleWindows." + profile, windows);
            }
            long sessions = WorkerProcess.asLong(cluster.serverStats(false), "sessions");
            check(sessions == n, "the server holds " + sessions + " sessions before the crash, expected " + n);
            cluster.all("mark", Duration.ofSeconds(60));

            Map<String, Long> tcpBefore = ProcStats.tcpExt(ProcStats.TCP_TROUBLE);
            long killedAt = System.nanoTime();
            cluster.server.kill();
            bench.log("storm: server killed with %d clients", n);
            long down = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (down < n && System.nanoTime() < deadline) {
                Local.sleepMillis(100);
                down = 0;
                for (Map<String, String> s : cluster.all("status", Duration.ofSeconds(60))) {
                    down += WorkerProcess.asLong(s, "wentDown");
                }
            }
            check(down == n, "only " + down + " of " + n + " clients noticed the crash (RECONNECTING)");
            long restartAt = System.nanoTime();
            cluster.restartServerSamePorts(Duration.ofSeconds(20));
            long listeningAt = System.nanoTime();
            bench.log("storm: new server listening %.2f s after the kill", (listeningAt - killedAt) / 1e9);

            long back = 0;
            long failures = 0;
            long giveUp = listeningAt + Duration.ofSeconds(bench.quick ? 30 : 60).toNanos();
            List<String> timeline = new java.util.ArrayList<>(); // "seconds:back:failed", every second
            long nextPoint = listeningAt;
            while (System.nanoTime() < giveUp) {
                Local.sleepMillis(250);
                back = 0;
                failures = 0;
                for (Map<String, String> s : cluster.all("status", Duration.ofSeconds(60))) {
                    back += WorkerProcess.asLong(s, "cameBack");
                    failures += WorkerProcess.asLong(s, "failures");
                }
                long now = System.nanoTime();
                if (now >= nextPoint) {
                    timeline.add(Report.fmt((now - listeningAt) / 1e9) + ":" + back + ":" + failures);
                    nextPoint += 1_000_000_000L;
                }
                if (back + failures >= n) {
                    break;
                }
            }
            long serverFds = ProcStats.openFds(cluster.server.pid());
            String tcp = ProcStats.tcpDelta(tcpBefore, ProcStats.tcpExt(ProcStats.TCP_TROUBLE));
            java.util.TreeMap<String, Long> reasons = new java.util.TreeMap<>();
            long outagesAfterCrash = 0;
            for (Map<String, String> s : cluster.all("status", Duration.ofSeconds(60))) {
                Capacity.mergeReasons(reasons, s.get("reasons"));
                outagesAfterCrash += WorkerProcess.asLong(s, "outages");
            }
            // One outage, one report: a second RECONNECTING can only follow a REJOIN_SUCCEED.
            long relapses = Math.max(0, outagesAfterCrash - n);
            Samples backSeconds = new Samples();
            for (Map<String, String> r : cluster.all("rejoins", Duration.ofSeconds(60))) {
                for (String v : r.get("backNs").split(",")) {
                    long t = Long.parseLong(v);
                    if (t != 0) {
                        check(t > restartAt, "a client was back before the new server was started");
                        backSeconds.add(Math.max(0, t - listeningAt) / 1e9);
                    }
                }
            }
            long sessionsAfter = WorkerProcess.asLong(cluster.serverStats(false), "sessions");
            if (backSeconds.size() == n) {
                check(sessionsAfter == n, "every client says it is back, but the new server holds " + sessionsAfter);
            }
            double[] sorted = backSeconds.sorted();
            Metric m = add(Metric.of(id(), "reconnect storm: " + n + " clients (" + label
                    + "), server killed and restarted on its ports", "s", backSeconds));
            boolean allBack = backSeconds.size() == n;
            long failed = failures;
            String at = allBack ? "50 % back at " + Report.fmt(Samples.percentile(sorted, 50)) + " s, 99 % at "
                    + Report.fmt(Samples.percentile(sorted, 99)) + " s, 100 % at " + Report.fmt(sorted[sorted.length - 1]) + " s"
                    : "not all back";
            m.value = backSeconds.size() + "/" + n + " back, " + failed + " FAILED; " + at;
            m.goal("all back within 15 s, 0 FAILED", x -> allBack && failed == 0 && x.max <= 15);
            m.note("times from the new server listening; it listened " + Report.fmt((listeningAt - killedAt) / 1e9)
                    + " s after the kill (JVM start); p50/p99/max are the times until 50 %/99 %/100 % were back");
            if (capped != null) {
                m.note(capped);
            }
            if (backSeconds.size() > 0) {
                m.note("first back at " + Report.fmt(sorted[0]) + " s, 10 % at " + Report.fmt(Samples.percentile(sorted, 10))
                        + " s");
            }
            m.note("server after: " + sessionsAfter + " sessions, " + serverFds + " open fds");
            m.note(relapses == 0 ? "none lost the connection again after coming back"
                    : relapses + " outage(s) after coming back (a client back once, then RECONNECTING again while "
                    + "the new server caught up); the times above are each client's first return");
            m.extra("relapses", relapses);
            m.note("machine kernel counters during the storm: " + tcp);
            m.note("kernel listen queues for this scenario: " + queues.describe());
            m.note("what the clients were told: " + reasons);
            m.extra("reasons", reasons.toString());
            m.extra("timeline(seconds:back:failed)", timeline);
            m.extra("serverDownSeconds", (listeningAt - killedAt) / 1e9).extra("failed", failed)
                    .extra("sessionsAfter", sessionsAfter);
            bench.log("storm: %s", m.value);
        }
    }
}
