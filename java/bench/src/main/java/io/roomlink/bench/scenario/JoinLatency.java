package io.roomlink.bench.scenario;

import io.roomlink.ConnectionState;
import io.roomlink.ConnectionStateChangeReason;
import io.roomlink.ErrorCode;
import io.roomlink.RoomEngine;
import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.harness.Probe;
import io.roomlink.bench.report.Metric;
import io.roomlink.bench.report.Report;
import io.roomlink.bench.report.Samples;
import io.roomlink.testkit.FaultProxy.Path;
import io.roomlink.testkit.FaultProxy;
import io.roomlink.testkit.TestRoomServer;
import java.time.Duration;

/**
 * joinChannel() until onJoinChannel(0), through a FaultProxy on loopback with 0 and 25 ms delay
 * each way (50 ms RTT). Repeated joins of one engine (the core knows the server's media address:
 * BIND travels with the TCP connect, 2 RTT) and first joins through a fresh proxy, i.e. a server
 * address this process has never joined (JOIN_OK tells the media address: 3 RTT).
 */
final class JoinLatency extends Scenario {
    JoinLatency() {
        super("join", "join latency");
    }

    @Override
    public void run(Bench bench) {
        int[] rtts = {0, 50};
        int firstJoins = bench.size(3, 10);
        config.put("firstJoinsPerRtt", firstJoins);
        config.put("repeatedJoins", bench.quick ? "20 at 0 ms, 8 at 50 ms" : "200 at 0 ms, 60 at 50 ms");
        config.put("engine", "defaults");
        config.put("rtt", "FaultProxy.delay(BOTH, rtt/2) each way; the time is taken before joinChannel() and in onJoinChannel");
        try (TestRoomServer rooms = TestRoomServer.start()) {
            for (int rtt : rtts) {
                int repeats = rtt == 0 ? bench.size(20, 200) : bench.size(8, 60);
                Samples first = new Samples();
                for (int i = 0; i < firstJoins; i++) {
                    FaultProxy proxy = rooms.newFaultProxy();
                    delay(proxy, rtt);
                    first.add(timedJoinWithNewEngine(rooms, proxy, "first-" + rtt + "-" + i, 1));
                    proxy.close();
                }
                FaultProxy proxy = rooms.newFaultProxy();
                delay(proxy, rtt);
                Probe probe = new Probe("repeat-" + rtt);
                Samples repeated = new Samples();
                Samples coreElapsed = new Samples();
                try (RoomEngine engine = RoomEngine.create(Local.config(proxy.signalPort()).build(), probe)) {
                    timedJoin(rooms, engine, probe, "warmup-" + rtt, 7); // learns the media address
                    leave(engine, probe);
                    for (int i = 0; i < repeats; i++) {
                        int before = probe.size();
                        repeated.add(timedJoin(rooms, engine, probe, "repeat-" + rtt + "-" + i, 7));
                        coreElapsed.add(elapsedOf(probe, before));
                        leave(engine, probe);
                    }
                }
                proxy.close();
                double goalMs = 2.0 * rtt + 5;
                add(Metric.of(id(), "join latency, " + rtt + " ms RTT (repeated joins)", "ms", repeated)
                        .goal("p50 ≤ 2 RTT + 5 ms = " + Report.fmt(goalMs) + " ms", m -> m.p50 <= goalMs)
                        .note("core's own elapsedMs p50 " + Report.fmt(Metric.of(id(), "", "ms", coreElapsed).p50) + " ms"));
                add(Metric.of(id(), "join latency, " + rtt + " ms RTT (first join to a server)", "ms", first)
                        .goalText("report (3 RTT expected: media address not known yet)")
                        .note("a fresh proxy each time: a server address this process never joined"));
                if (rtt == 0) {
                    Samples direct = new Samples();
                    Probe dp = new Probe("direct");
                    try (RoomEngine engine = RoomEngine.create(Local.config(rooms.serverSignalPort()).build(), dp)) {
                        timedJoin(rooms, engine, dp, "direct-warmup", 7);
                        leave(engine, dp);
                        for (int i = 0; i < repeats; i++) {
                            direct.add(timedJoin(rooms, engine, dp, "direct-" + i, 7));
                            leave(engine, dp);
                        }
                    }
                    add(Metric.of(id(), "join latency, loopback without a proxy (repeated joins)", "ms", direct)
                            .goalText("report (reference: the proxy's own cost)"));
                }
                bench.log("join latency at %d ms RTT: repeated p50 %.2f ms, first-join p50 %.2f ms", rtt,
                        Samples.percentile(repeated.sorted(), 50), Samples.percentile(first.sorted(), 50));
            }
        }
    }

    private static void delay(FaultProxy proxy, int rttMs) {
        if (rttMs > 0) {
            proxy.delay(Path.BOTH, Duration.ofMillis(rttMs / 2));
        }
    }

    private static double timedJoinWithNewEngine(TestRoomServer rooms, FaultProxy proxy, String channel, long uid) {
        Probe probe = new Probe(channel);
        try (RoomEngine engine = RoomEngine.create(Local.config(proxy.signalPort()).build(), probe)) {
            double ms = timedJoin(rooms, engine, probe, channel, uid);
            leave(engine, probe);
            return ms;
        }
    }

    /**
     * Milliseconds from just before joinChannel() to the onJoinChannel callback, checked to be a
     * success (the TLS rows time their joins with it too).
     */
    static double timedJoin(TestRoomServer rooms, RoomEngine engine, Probe probe, String channel, long uid) {
        String token = rooms.token(Local.APP_KEY, channel, uid);
        int index = probe.size();
        long start = System.nanoTime();
        int rc = engine.joinChannel(token, channel, uid);
        check(rc == ErrorCode.OK, "joinChannel returned " + ErrorCode.nameOf(rc));
        Probe.Ev joined = probe.require(index, e -> e.kind() == Probe.Kind.JOIN, Local.WAIT, "onJoinChannel");
        check(joined.code() == ErrorCode.OK, channel + ": join failed with " + ErrorCode.nameOf(joined.code()));
        check(probe.await(index, e -> e.is(ConnectionState.CONNECTED, ConnectionStateChangeReason.JOIN_SUCCEED),
                Duration.ZERO) != null, channel + ": no state(CONNECTED, JOIN_SUCCEED) before onJoinChannel");
        check(engine.getConnectionState() == ConnectionState.CONNECTED, channel + ": not CONNECTED after the join");
        return Local.ms(joined.nanos() - start);
    }

    private static double elapsedOf(Probe probe, int index) {
        return probe.since(index).stream().filter(e -> e.kind() == Probe.Kind.JOIN).findFirst()
                .map(e -> (double) e.elapsedMs()).orElse(Double.NaN);
    }

    private static void leave(RoomEngine engine, Probe probe) {
        int index = probe.size();
        check(engine.leaveChannel() == ErrorCode.OK, "leaveChannel failed");
        probe.require(index, e -> e.kind() == Probe.Kind.LEAVE, Local.WAIT, "onLeaveChannel");
    }
}
