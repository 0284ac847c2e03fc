package io.roomlink.bench.scenario;

import io.roomlink.ConnectionState;
import io.roomlink.ConnectionStateChangeReason;
import io.roomlink.UserLeaveReason;
import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.harness.Probe;
import io.roomlink.bench.report.Metric;
import io.roomlink.bench.report.Report;
import io.roomlink.bench.report.Samples;
import io.roomlink.testkit.FaultProxy.Direction;
import io.roomlink.testkit.FaultProxy.Path;
import io.roomlink.testkit.FaultProxy;
import io.roomlink.testkit.TestRoomServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Recovery: outages of A's network (its own FaultProxy, both paths) of several lengths; the
 * time from restore() to A's (CONNECTED, REJOIN_SUCCEED). Two kinds: silent (blackhole: every
 * packet lost, SYNs too, as with a pulled cable) and refused (the server's host up but nothing
 * listening, as during a server restart: RST to a connect, ICMP port unreachable to a datagram).
 * Ghost time: in the silent cuts that outlast the server's grace, the time from the cut to the
 * peer B's onUserLeave(A, TIMEOUT). B joins directly and never loses its network.
 */
final class Recovery extends Scenario {
    private static final long A = 1;
    private static final long B = 2;
    /** The goal: p99 ≤ 2 RTT + 100 ms; RTT ≈ 0 on loopback. */
    private static final double GOAL_MS = 100;

    private enum Kind { SILENT, REFUSED }

    Recovery() {
        super("recovery", "recovery latency and ghost time");
    }

    @Override
    public void run(Bench bench) {
        int slots = bench.size(2, 20);
        int rounds = bench.size(1, 2);
        int[] lengths = bench.quick ? new int[] {1, 5} : new int[] {1, 5, 20, 35};
        int[] refusedLengths = bench.quick ? new int[] {1, 5} : new int[] {1, 5, 20};
        Duration grace = bench.quick ? Duration.ofSeconds(2) : Duration.ofSeconds(10);
        config.put("pairs", slots);
        config.put("rounds", rounds);
        config.put("outageSeconds", java.util.Arrays.toString(lengths));
        config.put("serverSessionGraceMs", grace.toMillis());
        config.put("refusedOutageSeconds", java.util.Arrays.toString(refusedLengths));
        config.put("engine", "defaults (A and B)");
        config.put("faults", "silent: FaultProxy.blackhole(BOTH, BOTH) (a connect during the cut gets no SYN-ACK; the "
                + "client kernel retransmits its SYN at 1 s, 3 s, ...); refused: FaultProxy.refuse() (connections reset, "
                + "ports closed: RST and ICMP port unreachable)");

        Map<Integer, Samples> recovery = new LinkedHashMap<>();
        Map<Integer, int[]> notDetected = new LinkedHashMap<>(); // length -> {undetected, cuts}
        Map<Integer, Integer> peerSawLeave = new LinkedHashMap<>();
        for (int l : lengths) {
            recovery.put(l, new Samples());
            notDetected.put(l, new int[2]);
            peerSawLeave.put(l, 0);
        }
        Samples ghost = new Samples();
        Map<Integer, Samples> refusedRecovery = new LinkedHashMap<>();
        for (int l : refusedLengths) {
            refusedRecovery.put(l, new Samples());
        }

        try (TestRoomServer rooms = TestRoomServer.builder().sessionGrace(grace).start()) {
            List<Local.Member> as = new ArrayList<>();
            List<Local.Member> bs = new ArrayList<>();
            try {
                for (int i = 0; i < slots; i++) {
                    FaultProxy network = rooms.newFaultProxy();
                    as.add(Local.startJoin(rooms, network, b -> b, "rec-" + i, A));
                    bs.add(Local.startJoin(rooms, null, b -> b, "rec-" + i, B));
                }
                for (int i = 0; i < slots; i++) {
                    Local.awaitJoined(as.get(i));
                    Local.awaitJoined(bs.get(i));
                    as.get(i).probe().require(0, e -> e.kind() == Probe.Kind.USER_JOINED && e.uid() == B,
                            Local.WAIT, "onUserJoined(B)");
                    bs.get(i).probe().require(0, e -> e.kind() == Probe.Kind.USER_JOINED && e.uid() == A,
                            Local.WAIT, "onUserJoined(A)");
                }
                for (int round = 0; round < rounds; round++) {
                    for (int length : lengths) {
                        cut(bench, Kind.SILENT, as, bs, length, grace, recovery.get(length), notDetected.get(length),
                                ghost, peerSawLeave);
                    }
                    for (int length : refusedLengths) {
                        cut(bench, Kind.REFUSED, as, bs, length, grace, refusedRecovery.get(length), new int[2],
                                new Samples(), new LinkedHashMap<>());
                    }
                }
            } finally {
                as.forEach(Local.Member::close);
                bs.forEach(Local.Member::close);
            }
        }

        for (int length : lengths) {
            Samples s = recovery.get(length);
            int[] nd = notDetected.get(length);
            Metric m = Metric.of(id(), "recovery latency after a " + length + " s outage", "ms", s);
            if (s.size() == 0) {
                m.value = "no outage detected (" + nd[0] + " of " + nd[1] + " cuts)";
                m.goalText("p99 ≤ 2 RTT + 100 ms = 100 ms (nothing to recover from)");
            } else {
                m.goal("p99 ≤ 2 RTT + 100 ms = 100 ms (loopback)", x -> x.p99 <= GOAL_MS);
                if (nd[0] > 0) {
                    m.note(nd[0] + " of " + nd[1] + " cuts were not detected as an outage");
                }
            }
            if (length * 1000L > grace.toMillis()) {
                m.note("beyond the " + grace.toSeconds() + " s grace: the server had dropped the session, the RESUME was "
                        + "admitted as a fresh session");
            } else if (peerSawLeave.get(length) > 0) {
                m.note("within grace, yet the peer saw " + peerSawLeave.get(length) + " leave(s)");
            } else {
                m.note("within grace: the peer saw nothing");
            }
            m.extra("undetectedCuts", nd[0]).extra("cuts", nd[1]);
            add(m);
        }
        for (int length : refusedLengths) {
            add(Metric.of(id(), "recovery latency after a " + length + " s refused outage", "ms", refusedRecovery.get(length))
                    .goal("p99 ≤ 2 RTT + 100 ms = 100 ms (loopback)", x -> x.p99 <= GOAL_MS)
                    .note("restore() to (CONNECTED, REJOIN_SUCCEED); connections reset at the start, connects refused"));
        }
        double graceS = grace.toMillis() / 1000.0;
        add(Metric.of(id(), "ghost time (server grace " + Report.fmt(graceS) + " s)", "s", ghost)
                .goal("≤ grace + 1 s = " + Report.fmt(graceS + 1) + " s", x -> x.max <= graceS + 1)
                .note("cut of A until B's onUserLeave(A, TIMEOUT), from the cuts longer than the grace"));
    }

    private void cut(Bench bench, Kind kind, List<Local.Member> as, List<Local.Member> bs, int length, Duration grace,
                     Samples recovery, int[] notDetected, Samples ghost, Map<Integer, Integer> peerSawLeave) {
        int n = as.size();
        for (int i = 0; i < n; i++) {
            Local.awaitConnected(as.get(i));
            Local.awaitConnected(bs.get(i));
        }
        int[] indexA = new int[n];
        int[] indexB = new int[n];
        long[] cutAt = new long[n];
        long[] restoredAt = new long[n];
        for (int i = 0; i < n; i++) {
            indexA[i] = as.get(i).probe().size();
            indexB[i] = bs.get(i).probe().size();
            cutAt[i] = System.nanoTime();
            if (kind == Kind.SILENT) {
                as.get(i).proxy().blackhole(Path.BOTH, Direction.BOTH);
            } else {
                as.get(i).proxy().refuse();
            }
        }
        Local.sleepUntil(cutAt[0] + length * 1_000_000_000L);
        for (int i = 0; i < n; i++) {
            restoredAt[i] = System.nanoTime();
            as.get(i).proxy().restore();
        }
        // Well past the 1.5 s timeouts; a refusal resets the connection, which is noticed at once.
        boolean mustDetect = length >= 3 || kind == Kind.REFUSED;
        if (!mustDetect) {
            // A cut shorter than the timeouts may still be reported just after the restore: give it the time.
            Local.sleepUntil(restoredAt[n - 1] + 2_000_000_000L);
        }
        int detected = 0;
        for (int i = 0; i < n; i++) {
            Probe a = as.get(i).probe();
            Probe.Ev down = a.await(indexA[i], e -> e.is(ConnectionState.RECONNECTING), Duration.ZERO);
            notDetected[1]++;
            if (down == null) {
                check(!mustDetect, a.name + ": a " + length + " s cut was not detected; events: " + a.since(indexA[i]));
                check(as.get(i).engine().getConnectionState() == ConnectionState.CONNECTED,
                        a.name + ": no outage reported, yet not CONNECTED");
                notDetected[0]++;
                continue;
            }
            detected++;
            Probe.Ev back = a.require(indexA[i], e -> e.is(ConnectionState.CONNECTED, ConnectionStateChangeReason.REJOIN_SUCCEED),
                    Duration.ofSeconds(30), "(CONNECTED, REJOIN_SUCCEED) after a " + length + " s cut");
            check(back.nanos() >= restoredAt[i] || !mustDetect,
                    a.name + ": rejoined before its network was restored");
            recovery.add(Local.ms(Math.max(0, back.nanos() - restoredAt[i])));
        }
        long graceNanos = grace.toNanos();
        for (int i = 0; i < n; i++) {
            Probe b = bs.get(i).probe();
            if (kind == Kind.SILENT && length * 1_000_000_000L > graceNanos + 1_500_000_000L) {
                Probe.Ev left = b.require(indexB[i], e -> e.kind() == Probe.Kind.USER_LEFT && e.uid() == A,
                        Duration.ZERO, "onUserLeave(A) after a cut longer than the grace");
                check(left.leaveReason() == UserLeaveReason.TIMEOUT, b.name + ": A left with " + left.leaveReason());
                ghost.add((left.nanos() - cutAt[i]) / 1e9);
                int after = b.since(0).indexOf(left);
                b.require(after, e -> e.kind() == Probe.Kind.USER_JOINED && e.uid() == A, Local.WAIT,
                        "onUserJoined(A) once A is back");
            } else {
                long leaves = b.count(indexB[i], e -> e.kind() == Probe.Kind.USER_LEFT);
                if (leaves > 0) {
                    peerSawLeave.merge(length, (int) leaves, Integer::sum);
                }
            }
        }
        bench.log("recovery: %d s %s outage of %d engines, %d detected as an outage", length,
                kind.name().toLowerCase(java.util.Locale.ROOT), n, detected);
        Local.sleepMillis(1000);
    }
}
