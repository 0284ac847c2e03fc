package io.roomlink.bench.scenario;

import io.roomlink.ConnectionState;
import io.roomlink.ConnectionStateChangeReason;
import io.roomlink.ErrorCode;
import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.harness.MessageProbe;
import io.roomlink.bench.harness.Probe;
import io.roomlink.bench.report.Metric;
import io.roomlink.bench.report.Report;
import io.roomlink.bench.report.Samples;
import io.roomlink.testkit.FaultProxy;
import io.roomlink.testkit.FaultProxy.Direction;
import io.roomlink.testkit.FaultProxy.Path;
import io.roomlink.testkit.TestRoomServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Messages across a hard cut (issue 12; the peers' harness scenario that Socket.IO's Java client
 * loses 60 of 60 in): A, behind its own FaultProxy, is cut (blackhole, both paths, both ways) for
 * 3 s, and sends 60 messages at 20/s during the cut; B, straight to the server, receives. Every
 * message sendMessage() accepted is owed to B exactly once and in order. Repeated a few times on
 * the same pair (within the server's 10 s grace: the session lives through each cut).
 */
final class MessageCut extends Scenario {
    private static final long A = 1;
    private static final long B = 2;
    private static final int MESSAGES = 60;
    private static final long GAP_NANOS = 50_000_000L; // 20/s
    private static final long CUT_NANOS = 3_000_000_000L;
    private static final int SIZE = 64;

    MessageCut() {
        super("message-cut", "room messages across a 3 s cut");
    }

    @Override
    public void run(Bench bench) {
        int cuts = bench.size(2, 5);
        config.put("cuts", cuts);
        config.put("messagesPerCut", MESSAGES + " at 20/s by the cut member, from the moment of the cut");
        config.put("cut", "FaultProxy.blackhole(BOTH, BOTH) of A's proxy for 3 s; B joins directly");
        config.put("payloadBytes", SIZE);
        config.put("engine", "defaults; server: TestRoomServer defaults (10 s grace)");
        long lost = 0;
        long duplicated = 0;
        long reordered = 0;
        long rejected = 0;
        long owedTotal = 0;
        long peerLeaves = 0;
        int undetected = 0;
        Samples lastArrival = new Samples();
        Samples recovery = new Samples();
        List<String> perCut = new ArrayList<>();
        List<String> undeliveredNotes = new ArrayList<>();
        try (TestRoomServer rooms = TestRoomServer.start()) {
            FaultProxy network = rooms.newFaultProxy();
            List<MessageRoom.Peer> peers = new ArrayList<>();
            try {
                peers.add(MessageRoom.startJoin(rooms, network, "msg-cut", A));
                peers.add(MessageRoom.startJoin(rooms, null, "msg-cut", B));
                MessageRoom.awaitRoom(peers);
                MessageRoom.Peer a = peers.get(0);
                MessageRoom.Peer b = peers.get(1);
                // A few messages before the first cut: the path works and is warm.
                long seq = 0;
                for (int i = 0; i < 20; i++) {
                    MessageRoom.checkSent(a.send(++seq, SIZE, -1), "A");
                    Local.sleepMillis(5);
                }
                check(b.messages().awaitSeq(0, A, seq, Local.WAIT), "B: the warm-up messages did not arrive");
                for (int c = 0; c < cuts; c++) {
                    Local.awaitConnected(a.member());
                    Local.awaitConnected(b.member());
                    Local.sleepMillis(500);
                    int indexA = a.probe().size();
                    int indexB = b.probe().size();
                    int gotB = b.messages().size();
                    long first = seq + 1;
                    Map<Long, Integer> codes = new HashMap<>();
                    List<Long> owed = new ArrayList<>();
                    long cutAt = System.nanoTime();
                    network.blackhole(Path.BOTH, Direction.BOTH);
                    for (int i = 0; i < MESSAGES; i++) {
                        Local.sleepUntil(cutAt + i * GAP_NANOS);
                        long s = ++seq;
                        int rc = a.send(s, SIZE, -1);
                        if (rc == ErrorCode.OK) {
                            owed.add(s);
                        } else {
                            codes.merge((long) rc, 1, Integer::sum);
                        }
                    }
                    Local.sleepUntil(cutAt + CUT_NANOS);
                    long restoredAt = System.nanoTime();
                    network.restore();
                    Probe.Ev down = a.probe().await(indexA, e -> e.is(ConnectionState.RECONNECTING), Duration.ZERO);
                    if (down == null) {
                        undetected++;
                    } else {
                        Probe.Ev back = a.probe().require(indexA, e -> e.is(ConnectionState.CONNECTED,
                                ConnectionStateChangeReason.REJOIN_SUCCEED), Duration.ofSeconds(30),
                                "(CONNECTED, REJOIN_SUCCEED) after the cut");
                        recovery.add(Local.ms(back.nanos() - restoredAt));
                    }
                    if (!owed.isEmpty()) {
                        long lastOwed = owed.get(owed.size() - 1);
                        b.messages().awaitSeq(gotB, A, lastOwed, Duration.ofSeconds(20));
                    }
                    Local.sleepMillis(500); // a duplicate, if any, has time to show
                    List<MessageProbe.Got> got = b.messages().since(gotB);
                    Map<Long, Integer> seen = new HashMap<>();
                    long highest = 0;
                    long re = 0;
                    long lastNanos = 0;
                    for (MessageProbe.Got g : got) {
                        if (g.fromUid() != A) {
                            continue;
                        }
                        seen.merge(g.seq(), 1, Integer::sum);
                        if (g.seq() < highest) {
                            re++;
                        }
                        highest = Math.max(highest, g.seq());
                        lastNanos = Math.max(lastNanos, g.nanos());
                    }
                    long l = 0;
                    for (long s : owed) {
                        if (!seen.containsKey(s)) {
                            l++;
                        }
                    }
                    long d = 0;
                    for (int n : seen.values()) {
                        d += n - 1;
                    }
                    lost += l;
                    duplicated += d;
                    reordered += re;
                    owedTotal += owed.size();
                    long rej = MESSAGES - owed.size();
                    rejected += rej;
                    if (lastNanos > 0 && l == 0) {
                        lastArrival.add(Local.ms(lastNanos - restoredAt));
                    }
                    long leaves = b.probe().count(indexB, e -> e.kind() == Probe.Kind.USER_LEFT && e.uid() == A);
                    peerLeaves += leaves;
                    String line = "cut " + (c + 1) + ": owed " + owed.size() + " (seq " + first + ".." + seq + "), lost " + l
                            + ", duplicated " + d + ", reordered " + re + (rej > 0 ? ", sendMessage refused " + rej + " "
                            + codes : "") + (leaves > 0 ? ", B saw A leave " + leaves + "×" : "");
                    perCut.add(line);
                    bench.log("message-cut: %s", line);
                }
                for (int[] u : a.messages().undelivered()) {
                    undeliveredNotes.add("A: onMessagesUndelivered(" + u[0] + ", " + ErrorCode.nameOf(u[1]) + ")");
                }
            } finally {
                peers.forEach(MessageRoom.Peer::close);
                network.close();
            }
        }
        long l = lost;
        long d = duplicated;
        long r = reordered;
        Metric m = Metric.value(id(), "messages lost / duplicated across a 3 s hard cut (60 at 20/s by the cut member)",
                "", l + " lost / " + d + " duplicated (" + r + " reordered) of " + owedTotal, cuts);
        m.goal("0 / 0 (Socket.IO Java: 60 lost)", x -> l == 0 && d == 0 && r == 0);
        m.note(cuts + " cuts of A (blackhole both paths both ways, 3 s) while A sends 60 messages at 20/s from the moment "
                + "of the cut; B receives straight from the server; " + String.join("; ", perCut));
        if (rejected > 0) {
            m.note(rejected + " sendMessage calls refused (not counted as owed)");
        }
        if (undetected > 0) {
            m.note(undetected + " cut(s) not detected as an outage");
        }
        undeliveredNotes.forEach(m::note);
        m.note(peerLeaves == 0 ? "B never saw A leave" : "B saw A leave " + peerLeaves + " time(s)");
        m.extra("lost", l).extra("duplicated", d).extra("reordered", r).extra("owed", owedTotal).extra("refused", rejected);
        add(m);
        add(Metric.of(id(), "3 s cut: restore → the cut's last message at the peer", "ms", lastArrival)
                .goalText("report")
                .note("restore() of A's network until B's onMessage of the last message A sent during the cut; A's "
                        + "recovery (restore → CONNECTED, REJOIN_SUCCEED) p50 " + Report.fmt(percentile(recovery, 50))
                        + " ms, max " + Report.fmt(percentile(recovery, 100)) + " ms"));
    }

    private static double percentile(Samples s, double p) {
        return Samples.percentile(s.sorted(), p);
    }
}
