package io.roomlink.bench.scenario;

import io.roomlink.ConnectionState;
import io.roomlink.ConnectionStateChangeReason;
import io.roomlink.RoomEngineConfig;
import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.harness.Probe;
import io.roomlink.bench.report.Metric;
import io.roomlink.bench.report.Samples;
import io.roomlink.testkit.FaultProxy.Direction;
import io.roomlink.testkit.FaultProxy.Path;
import io.roomlink.testkit.FaultProxy;
import io.roomlink.testkit.TestRoomServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A hard cut (FaultProxy blackhole, both paths, both directions) until
 * onConnectionStateChanged(RECONNECTING, …). Several engines, each behind a proxy of its own,
 * are cut in each round at random phases of the keepalive cycle (a uniform offset in [0, 1 s),
 * the default signal keepalive interval, from a seed reported in the settings), as cuts come on a
 * real network; each sample is timed from just before its own proxy's cut.
 */
final class Detection extends Scenario {
    Detection() {
        super("detection", "detection latency");
    }

    record Setting(String label, String knobs, UnaryOperator<RoomEngineConfig.Builder> apply, String goal,
                   Double p99GoalMs) {
    }

    @Override
    public void run(Bench bench) {
        int engines = bench.size(3, 10);
        int rounds = bench.size(2, 6);
        config.put("engines", engines);
        config.put("rounds", rounds);
        long seed = Long.getLong("bench.detectionSeed", System.nanoTime());
        config.put("phaseSeed", seed);
        config.put("phases", "each cut at a uniform random offset in [0, 1000) ms from its round's start "
                + "(-Dbench.detectionSeed=N replays them)");
        java.util.Random phases = new java.util.Random(seed);
        List<Setting> settings = List.of(
                new Setting("defaults", "signal 1 s/1.5 s, media 500 ms/1.5 s cap (RTT-adaptive), 25 ms while overdue", b -> b,
                        "p99 ≤ 1.0 s", 1000.0),
                new Setting("tuned", "media keepalive 20 ms/timeout 200 ms, signal 50 ms/200 ms",
                        b -> b.mediaKeepaliveInterval(Duration.ofMillis(20)).mediaTimeout(Duration.ofMillis(200))
                                .signalKeepaliveInterval(Duration.ofMillis(50)).signalTimeout(Duration.ofMillis(200)),
                        "report (best reachable)", null),
                new Setting("minimum", "media 20 ms/100 ms, signal 20 ms/100 ms (the smallest allowed)",
                        b -> b.mediaKeepaliveInterval(Duration.ofMillis(20)).mediaTimeout(Duration.ofMillis(100))
                                .signalKeepaliveInterval(Duration.ofMillis(20)).signalTimeout(Duration.ofMillis(100)),
                        "report (best reachable)", null));
        for (Setting s : settings) {
            config.put("knobs." + s.label(), s.knobs());
            measure(bench, s, engines, rounds, phases);
        }
    }

    private void measure(Bench bench, Setting setting, int engines, int rounds, java.util.Random phases) {
        Samples samples = new Samples();
        int mediaFirst = 0;
        int signalFirst = 0;
        int spurious = 0;
        try (TestRoomServer rooms = TestRoomServer.start()) {
            List<Local.Member> members = new ArrayList<>();
            try {
                for (int i = 0; i < engines; i++) {
                    members.add(Local.startJoin(rooms, rooms.newFaultProxy(), setting.apply(), "detect-" + i, 1));
                }
                members.forEach(Local::awaitJoined);
                Local.sleepMillis(300); // keepalives in their steady rhythm
                for (int round = 0; round < rounds; round++) {
                    int[] index = new int[engines];
                    long[] cutAt = new long[engines];
                    Integer[] order = new Integer[engines];
                    long[] offset = new long[engines];
                    for (int i = 0; i < engines; i++) {
                        order[i] = i;
                        offset[i] = (long) (phases.nextDouble() * 1_000_000_000L);
                    }
                    java.util.Arrays.sort(order, java.util.Comparator.comparingLong(i -> offset[i]));
                    long roundStart = System.nanoTime();
                    for (int i : order) {
                        Local.sleepUntil(roundStart + offset[i]);
                        Local.Member m = members.get(i);
                        // A spurious outage before the cut would make the sample meaningless.
                        if (m.engine().getConnectionState() != ConnectionState.CONNECTED) {
                            spurious++;
                            Local.awaitConnected(m);
                        }
                        index[i] = m.probe().size();
                        cutAt[i] = System.nanoTime();
                        m.proxy().blackhole(Path.BOTH, Direction.BOTH);
                    }
                    for (int i = 0; i < engines; i++) {
                        Probe.Ev e = members.get(i).probe().require(index[i], ev -> ev.kind() == Probe.Kind.STATE,
                                Duration.ofSeconds(10), "state change after the cut");
                        check(e.state() == ConnectionState.RECONNECTING, "first state after the cut was " + e);
                        if (e.reason() == ConnectionStateChangeReason.MEDIA_CONNECTION_DISCONNECTED) {
                            mediaFirst++;
                        } else {
                            signalFirst++;
                        }
                        samples.add(Local.ms(e.nanos() - cutAt[i]));
                    }
                    for (int i = 0; i < engines; i++) {
                        members.get(i).proxy().restore();
                    }
                    for (int i = 0; i < engines; i++) {
                        members.get(i).probe().require(index[i],
                                ev -> ev.is(ConnectionState.CONNECTED, ConnectionStateChangeReason.REJOIN_SUCCEED),
                                Local.WAIT, "(CONNECTED, REJOIN_SUCCEED) after the restore");
                    }
                    Local.sleepMillis(300);
                }
            } finally {
                members.forEach(Local.Member::close);
            }
        }
        Metric m = Metric.of(id(), "detection latency (" + setting.label() + ": " + setting.knobs() + ")", "ms", samples);
        if (setting.p99GoalMs() != null) {
            m.goal(setting.goal(), x -> x.p99 <= setting.p99GoalMs());
        } else {
            m.goalText(setting.goal());
        }
        m.note("first to fail: media " + mediaFirst + ", signal " + signalFirst);
        if (spurious > 0) {
            m.note(spurious + " engine(s) were not CONNECTED when a round began (outage without a cut)");
        }
        m.extra("spuriousBeforeCut", spurious);
        add(m);
        bench.log("detection (%s): p50 %.1f ms, p99 %.1f ms", setting.label(), m.p50, m.p99);
    }
}
