package io.roomlink.bench.scenario;

import io.roomlink.ErrorCode;
import io.roomlink.RoomEngine;
import io.roomlink.bench.attack.AttackedServer;
import io.roomlink.bench.attack.Flood;
import io.roomlink.bench.attack.Witnessed;
import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.harness.Probe;
import io.roomlink.bench.report.Metric;
import io.roomlink.bench.report.Report;
import io.roomlink.bench.report.Samples;
import io.roomlink.server.TokenBuilder;
import java.time.Instant;

/**
 * Idle unauthenticated connections up to the fd limit (issue 10): the standalone server under a
 * small {@code ulimit -n}, with its default, fd-derived connection cap, flooded by more idle
 * connections than it has descriptors (each one it closes is opened again at once), while a real
 * engine joins and leaves over and over and two witnesses sit in a channel. The accept loop must
 * live, legitimate joins must stay fast, and the descriptors must come back afterwards.
 */
final class FdFlood extends Scenario {
    /** Enough that the attacker stays under the per-address cap (1024) at the full run's 4,608 connections. */
    private static final int ATTACKER_ADDRESSES = 8;
    FdFlood() {
        super("fd-flood", "idle connections up to the fd limit");
    }

    @Override
    public void run(Bench bench) throws Exception {
        int fdLimit = bench.size(1024, 4096);
        int attackers = fdLimit + 512;
        int joins = bench.size(30, 200);
        config.put("serverUlimitN", fdLimit);
        config.put("idleConnections", attackers + " kept open (reopened as the server closes them)");
        config.put("legitimateJoins", joins);
        java.util.List<String> sources = java.util.stream.IntStream.rangeClosed(1, ATTACKER_ADDRESSES)
                .mapToObj(i -> "127.0.2." + i).toList();
        config.put("server", "RoomServerMain defaults (maxConnections = ulimit - 256, 1024 per address, "
                + "handshake timeout 3 s, 200 new connections/s per address)");
        config.put("attackerAddresses", sources.size() + " (127.0.2.1-" + sources.size() + "; the real client and the "
                + "witnesses come from 127.0.0.1)");
        try (AttackedServer server = AttackedServer.start(bench, id(), fdLimit);
                Witnessed witnesses = new Witnessed(server.signalPort, "witnessed")) {
            long baseline = server.fds();
            Samples latency = new Samples();
            long peakFds = baseline;
            int failed = 0;
            Flood flood = new Flood(server.signalPort, attackers, Flood.Mode.IDLE, true, sources).start();
            try {
                long until = System.nanoTime() + 10_000_000_000L;
                while (server.fds() < Math.min(fdLimit - 300, baseline + attackers / 2) && System.nanoTime() < until) {
                    Local.sleepMillis(20);
                }
                bench.log("fd flood: server holds %d descriptors (limit %d), %d opened by the attacker", server.fds(),
                        fdLimit, flood.opened.get());
                Probe probe = new Probe("legit");
                try (RoomEngine engine = RoomEngine.create(Local.config(server.signalPort).plaintext(true).build(), probe)) {
                    for (int i = 0; i < joins; i++) {
                        String channel = "legit-" + i;
                        int index = probe.size();
                        long start = System.nanoTime();
                        check(engine.joinChannel(token(channel, 7), channel, 7) == ErrorCode.OK, "joinChannel refused");
                        Probe.Ev joined = probe.require(index, e -> e.kind() == Probe.Kind.JOIN, Local.WAIT, "onJoinChannel");
                        if (joined.code() == ErrorCode.OK) {
                            latency.add(Local.ms(joined.nanos() - start));
                            int li = probe.size();
                            engine.leaveChannel();
                            probe.require(li, e -> e.kind() == Probe.Kind.LEAVE, Local.WAIT, "onLeaveChannel");
                        } else {
                            failed++;
                        }
                        peakFds = Math.max(peakFds, server.fds());
                    }
                }
            } finally {
                flood.close();
            }
            boolean acceptAlive = server.acceptThreadAlive();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (server.fds() > baseline + 3 && System.nanoTime() < deadline) {
                Local.sleepMillis(50);
            }
            long after = server.fds();
            int disturbed = witnesses.disturbances();
            check(latency.size() > 0, "no legitimate join succeeded during the flood (" + failed + " failed)");
            boolean fdsBack = after <= baseline + 3;
            int joinsFailed = failed;
            add(Metric.of(id(), "idle unauthenticated connections up to the fd limit: legitimate join during the attack",
                            "ms", latency)
                    .goal("accept loop alive, join p99 ≤ 100 ms, fds back to baseline, 0 witness state changes",
                            m -> m.p99 <= 100 && acceptAlive && fdsBack && disturbed == 0 && joinsFailed == 0)
                    .note(String.format("ulimit -n %d; server fds: %d before, peak %d during, %d after; %d idle "
                                    + "connections opened by the attacker, %d closed by the server; %d of %d joins failed; "
                                    + "accept thread %s; %d witness state changes", fdLimit, baseline, peakFds, after,
                            flood.opened.get(), flood.closedByServer.get(), failed, joins,
                            acceptAlive ? "alive" : "DEAD", disturbed)));
            bench.log("fd flood: join p99 %s ms, fds %d -> %d -> %d, witnesses disturbed %d",
                    Report.fmt(Samples.percentile(latency.sorted(), 99)), baseline, peakFds, after, disturbed);
        }
    }

    private static String token(String channel, long uid) {
        return TokenBuilder.build(AttackedServer.SECRET, Local.APP_KEY, channel, uid, Instant.now().plusSeconds(3600));
    }
}
