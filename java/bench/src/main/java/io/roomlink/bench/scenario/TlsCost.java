package io.roomlink.bench.scenario;

import io.roomlink.ConnectionState;
import io.roomlink.ErrorCode;
import io.roomlink.RoomEngine;
import io.roomlink.RoomEngineConfig;
import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.harness.Probe;
import io.roomlink.bench.report.Metric;
import io.roomlink.bench.report.ProcStats;
import io.roomlink.bench.report.Report;
import io.roomlink.bench.report.Samples;
import io.roomlink.testkit.FaultProxy;
import io.roomlink.testkit.FaultProxy.Path;
import io.roomlink.server.SignalTls;
import io.roomlink.testkit.TestRoomServer;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * What TLS 1.3 on signaling costs: joins through a FaultProxy at 0 and 50 ms RTT (each a fresh
 * TCP connection) against a self-signed TLS server and a plaintext one, in four cases:
 * <ul>
 * <li>first join: a new engine per join, so a full handshake (certificate, signature) each time;
 * <li>resumed join: repeated joins of one engine, each resuming the TLS session from the ticket
 *     the previous connection received (the server's count of resumed handshakes is a row);
 * <li>plaintext: repeated joins of one engine, the resumed join's baseline; and a new engine per
 *     join, the first join's baseline (a new engine's first join costs more than the TLS part);
 * <li>at 0 ms RTT also the first join with the JDK's TLS provider on the server (what the server
 *     used before BoringSSL), for comparison.
 * </ul>
 * And the server's CPU per join (CPU time of its accept and I/O threads, in this process); then
 * the cost of idle joined sessions with TLS and without (see {@link #idleSessions}).
 */
final class TlsCost extends Scenario {
    TlsCost() {
        super("tls", "TLS cost");
    }

    private enum Case {
        FIRST("TLS 1.3 first join (full handshake)", true, true, SignalTls.Provider.AUTO),
        RESUMED("TLS 1.3 resumed join", true, false, SignalTls.Provider.AUTO),
        PLAIN("plaintext", false, false, SignalTls.Provider.AUTO),
        PLAIN_FIRST("plaintext first join (new engine)", false, true, SignalTls.Provider.AUTO),
        FIRST_JDK("TLS 1.3 first join, JDK provider on the server", true, true, SignalTls.Provider.JDK);

        final String label;
        final boolean tls;
        final boolean freshEngine;
        final SignalTls.Provider provider;

        Case(String label, boolean tls, boolean freshEngine, SignalTls.Provider provider) {
            this.label = label;
            this.tls = tls;
            this.freshEngine = freshEngine;
            this.provider = provider;
        }
    }

    @Override
    public void run(Bench bench) {
        int[] rtts = {0, 50};
        config.put("joinsPerCase", bench.quick ? "20 at 0 ms, 8 at 50 ms" : "200 at 0 ms, 40 at 50 ms");
        config.put("rtt", "FaultProxy.delay(BOTH, rtt/2) each way");
        int warmups = bench.size(10, 100);
        config.put("warmupJoins", warmups + " per case, not measured");
        config.put("tls", "TLS 1.3, ECDSA P-256 self-signed, OpenSSL 3 in the core; server provider auto "
                + "(BoringSSL via netty-tcnative when it loads) unless the row says JDK");
        for (int rtt : rtts) {
            int joins = rtt == 0 ? bench.size(20, 200) : bench.size(8, 40);
            EnumMap<Case, Double> p50 = new EnumMap<>(Case.class);
            EnumMap<Case, Double> cpuUs = new EnumMap<>(Case.class);
            for (Case c : Case.values()) {
                if (c == Case.FIRST_JDK && rtt != 0) {
                    continue;
                }
                TestRoomServer.Builder b = TestRoomServer.builder();
                if (!c.tls) {
                    b.plaintext();
                } else {
                    b.configureServer(s -> s.tlsProvider(c.provider));
                }
                try (TestRoomServer rooms = b.start()) {
                    FaultProxy proxy = rooms.newFaultProxy();
                    if (rtt > 0) {
                        proxy.delay(Path.BOTH, Duration.ofMillis(rtt / 2));
                    }
                    Samples latency = new Samples();
                    RoomEngineConfig config = Local.config(proxy.signalPort()).plaintext(!c.tls).build();
                    Probe shared = new Probe("tls-" + c + "-" + rtt);
                    RoomEngine engine = c.freshEngine ? null : RoomEngine.create(config, shared);
                    try {
                        // Steady state: the server's JIT has compiled the handshake code.
                        for (int i = 0; i < warmups; i++) {
                            joinOnce(rooms, engine, config, shared, "warmup-" + i);
                        }
                        long cpu0 = serverCpuNanos();
                        long resumed0 = rooms.server().stats().tlsResumedHandshakes();
                        long handshakes0 = rooms.server().stats().tlsHandshakes();
                        for (int i = 0; i < joins; i++) {
                            latency.add(joinOnce(rooms, engine, config, shared, "room-" + i));
                        }
                        cpuUs.put(c, (serverCpuNanos() - cpu0) / 1e3 / joins);
                        if (c.tls) {
                            long resumed = rooms.server().stats().tlsResumedHandshakes() - resumed0;
                            long handshakes = rooms.server().stats().tlsHandshakes() - handshakes0;
                            add(Metric.value(id(), "server-counted resumed handshakes, " + c.label + ", " + rtt
                                    + " ms RTT (server TLS " + rooms.server().tlsProvider() + ")", "of " + handshakes,
                                    Long.toString(resumed), joins).goalText(c == Case.RESUMED ? "all" : "report"));
                        }
                    } finally {
                        if (engine != null) {
                            engine.close();
                        }
                    }
                    p50.put(c, Samples.percentile(latency.sorted(), 50));
                    add(Metric.of(id(), "join latency, " + rtt + " ms RTT, " + c.label, "ms", latency)
                            .goalText(c.tls ? "≤ plaintext + 1 RTT + 2 ms (rows below)" : "report (baseline)"));
                }
            }
            double goal = rtt + 2.0;
            for (Case c : new Case[] {Case.FIRST, Case.RESUMED, Case.FIRST_JDK}) {
                if (!p50.containsKey(c)) {
                    continue;
                }
                Case base = c.freshEngine ? Case.PLAIN_FIRST : Case.PLAIN;
                double extra = p50.get(c) - p50.get(base);
                add(Metric.value(id(), "TLS extra join latency p50, " + rtt + " ms RTT, " + c.label + " vs " + base.label, "ms",
                        Report.fmt(extra), joins).goal("≤ 1 RTT + 2 ms = " + Report.fmt(goal) + " ms", m -> extra <= goal));
            }
            if (rtt == 0) {
                for (Case c : Case.values()) {
                    add(Metric.value(id(), "server CPU per join (accept + I/O threads), " + c.label, "µs",
                            Report.fmt(cpuUs.get(c)), joins).goalText("report"));
                }
            }
            bench.log("TLS cost at %d ms RTT: p50 %s", rtt, p50);
        }
        idleSessions(bench);
    }

    /**
     * What an idle joined session costs with TLS and without: engines joined straight to the server
     * (no proxy), then left idle (keepalive only). Server CPU is its accept and I/O threads; memory
     * is this process's RSS, which holds both ends (the engine's TLS session in the core and the
     * server's SslHandler and BoringSSL session), so it is an upper bound on the server's share.
     */
    private void idleSessions(Bench bench) {
        int sessions = bench.size(20, 200);
        int idleSeconds = bench.size(3, 10);
        config.put("idleSessions", sessions + " engines joined, then " + idleSeconds + " s idle, per mode");
        double[] cpu = new double[2];
        double[] rss = new double[2];
        for (int mode = 0; mode < 2; mode++) {
            boolean tls = mode == 0;
            TestRoomServer.Builder b = TestRoomServer.builder();
            if (!tls) {
                b.plaintext();
            }
            List<RoomEngine> engines = new ArrayList<>();
            try (TestRoomServer rooms = b.start()) {
                RoomEngineConfig config = Local.config(rooms.serverSignalPort()).plaintext(!tls).build();
                settle();
                long rss0 = ProcStats.rssKb(ProcessHandle.current().pid());
                for (int i = 0; i < sessions; i++) {
                    Probe probe = new Probe("idle-" + i);
                    RoomEngine engine = RoomEngine.create(config, probe);
                    engines.add(engine);
                    JoinLatency.timedJoin(rooms, engine, probe, "idle-" + i, 7);
                }
                settle();
                rss[mode] = (ProcStats.rssKb(ProcessHandle.current().pid()) - rss0) / (double) sessions;
                long cpu0 = serverCpuNanos();
                LockSupport.parkNanos(Duration.ofSeconds(idleSeconds).toNanos());
                cpu[mode] = (serverCpuNanos() - cpu0) / 1e3 / sessions / idleSeconds;
            } finally {
                engines.forEach(RoomEngine::close);
            }
        }
        String[] names = {"TLS 1.3", "plaintext"};
        for (int mode = 0; mode < 2; mode++) {
            add(Metric.value(id(), "idle session: server CPU per session-second, " + names[mode], "µs",
                    Report.fmt(cpu[mode]), sessions).goalText("TLS ≈ plaintext (report)"));
        }
        for (int mode = 0; mode < 2; mode++) {
            add(Metric.value(id(), "idle session: process RSS per session (engine + server session, one JVM), "
                    + names[mode], "KiB", Report.fmt(rss[mode]), sessions).goalText("TLS ≈ plaintext (report)"));
        }
        bench.log("idle sessions: server CPU %.1f / %.1f µs per session-s, RSS %.1f / %.1f KiB per session (TLS / plain)",
                cpu[0], cpu[1], rss[0], rss[1]);
    }

    private static void settle() {
        for (int i = 0; i < 3; i++) {
            System.gc();
            LockSupport.parkNanos(200_000_000L);
        }
    }

    /** One join and leave: of {@code engine}, or of a new engine when it is null (a full handshake). */
    private static double joinOnce(TestRoomServer rooms, RoomEngine engine, RoomEngineConfig config, Probe shared,
            String channel) {
        if (engine != null) {
            double ms = JoinLatency.timedJoin(rooms, engine, shared, channel, 7);
            leave(engine, shared);
            return ms;
        }
        Probe probe = new Probe(channel);
        try (RoomEngine fresh = RoomEngine.create(config, probe)) {
            double ms = JoinLatency.timedJoin(rooms, fresh, probe, channel, 7);
            leave(fresh, probe);
            return ms;
        }
    }

    /** CPU time of the room servers' accept and I/O threads in this process. */
    private static long serverCpuNanos() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null && (info.getThreadName().startsWith("roomlink-io")
                    || info.getThreadName().startsWith("roomlink-accept"))) {
                long t = threads.getThreadCpuTime(info.getThreadId());
                if (t > 0) {
                    sum += t;
                }
            }
        }
        return sum;
    }

    private static void leave(RoomEngine engine, Probe probe) {
        int index = probe.size();
        check(engine.leaveChannel() == ErrorCode.OK, "leaveChannel failed");
        probe.require(index, e -> e.kind() == Probe.Kind.LEAVE, Local.WAIT, "onLeaveChannel");
    }
}
