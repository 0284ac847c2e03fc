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
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Replay to a receiver after an outage (issue 12): R, behind its own FaultProxy, is cut
 * (blackhole, both paths, both ways) for 5 s while S1 and S2, straight to the server, send
 * 50 messages/s each (100/s in all) without pause. Everything they sent until R's network is
 * restored is owed to R, and must arrive within recovery + 50 ms: the row is the lag from R's
 * (CONNECTED, REJOIN_SUCCEED) callback until R's onMessage of the last message sent before the
 * restore, over a few outages of the same session (within the server's 10 s grace).
 */
final class MessageReplay extends Scenario {
    private static final long R = 1;
    private static final long S1 = 11;
    private static final long S2 = 12;
    private static final long TICK_NANOS = 10_000_000L; // one sender every 10 ms: 50/s each, 100/s in all
    private static final long OUTAGE_NANOS = 5_000_000_000L;
    private static final int SIZE = 128;
    private static final double GOAL_MS = 50;

    MessageReplay() {
        super("message-replay", "room message replay after a 5 s outage");
    }

    @Override
    public void run(Bench bench) throws InterruptedException {
        int outages = bench.size(2, 5);
        config.put("outages", outages);
        config.put("outageMs", OUTAGE_NANOS / 1_000_000);
        config.put("senders", "S1, S2 straight to the server, 50/s each, alternating every 10 ms");
        config.put("receiver", "R behind a FaultProxy, blackhole(BOTH, BOTH) for 5 s");
        config.put("payloadBytes", SIZE);
        config.put("engine", "defaults; server: TestRoomServer defaults (10 s grace)");
        Samples lag = new Samples();
        Samples recovery = new Samples();
        List<String> perOutage = new ArrayList<>();
        String tallyText;
        long lost;
        long duplicated;
        long reordered;
        long owed;
        try (TestRoomServer rooms = TestRoomServer.start()) {
            FaultProxy network = rooms.newFaultProxy();
            List<MessageRoom.Peer> peers = new ArrayList<>();
            AtomicBoolean sending = new AtomicBoolean(true);
            AtomicLong[] sent = {new AtomicLong(), new AtomicLong()};
            ConcurrentHashMap<Integer, Integer> refused = new ConcurrentHashMap<>();
            Thread senders = null;
            try {
                peers.add(MessageRoom.startJoin(rooms, network, "msg-replay", R));
                peers.add(MessageRoom.startJoin(rooms, null, "msg-replay", S1));
                peers.add(MessageRoom.startJoin(rooms, null, "msg-replay", S2));
                MessageRoom.awaitRoom(peers);
                MessageRoom.Peer r = peers.get(0);
                MessageRoom.Peer[] s = {peers.get(1), peers.get(2)};
                senders = new Thread(() -> {
                    long next = System.nanoTime();
                    int turn = 0;
                    while (sending.get()) {
                        Local.sleepUntil(next);
                        next += TICK_NANOS;
                        // The seq is taken before the call: a message counts as sent once sendMessage() has returned.
                        long seq = sent[turn].get() + 1;
                        int rc = s[turn].send(seq, SIZE, -1);
                        if (rc == ErrorCode.OK) {
                            sent[turn].set(seq);
                        } else {
                            refused.merge(rc, 1, Integer::sum);
                        }
                        turn ^= 1;
                    }
                }, "bench-replay-senders");
                senders.start();
                for (int o = 0; o < outages; o++) {
                    Local.awaitConnected(r.member());
                    Local.sleepMillis(1000);
                    int index = r.probe().size();
                    int got = r.messages().size();
                    long[] before = {sent[0].get(), sent[1].get()};
                    long cutAt = System.nanoTime();
                    network.blackhole(Path.BOTH, Direction.BOTH);
                    Local.sleepUntil(cutAt + OUTAGE_NANOS);
                    long[] last = {sent[0].get(), sent[1].get()}; // all of these were sent before the restore
                    long restoredAt = System.nanoTime();
                    network.restore();
                    check(r.probe().await(index, e -> e.is(ConnectionState.RECONNECTING), Duration.ZERO) != null,
                            "R: a 5 s cut was not detected; events: " + r.probe().since(index));
                    Probe.Ev back = r.probe().require(index, e -> e.is(ConnectionState.CONNECTED,
                            ConnectionStateChangeReason.REJOIN_SUCCEED), Duration.ofSeconds(30),
                            "(CONNECTED, REJOIN_SUCCEED) after the outage");
                    recovery.add(Local.ms(back.nanos() - restoredAt));
                    for (int k = 0; k < 2; k++) {
                        check(r.messages().awaitSeq(got, s[k].uid(), last[k], Duration.ofSeconds(20)),
                                "R: message " + last[k] + " of " + s[k].uid() + " did not arrive within 20 s of the restore");
                    }
                    long lastArrival = 0;
                    long replayed = 0;
                    for (MessageProbe.Got g : r.messages().since(got)) {
                        int k = g.fromUid() == S1 ? 0 : g.fromUid() == S2 ? 1 : -1;
                        if (k >= 0 && g.seq() == last[k]) {
                            lastArrival = Math.max(lastArrival, g.nanos());
                        }
                        if (k >= 0 && g.seq() > before[k] && g.seq() <= last[k]) {
                            replayed++;
                        }
                    }
                    double lagMs = Local.ms(lastArrival - back.nanos());
                    lag.add(lagMs);
                    long leaves = peers.get(1).probe().count(0, e -> e.kind() == Probe.Kind.USER_LEFT && e.uid() == R);
                    String line = "outage " + (o + 1) + ": recovery " + Report.fmt(Local.ms(back.nanos() - restoredAt))
                            + " ms, " + (last[0] - before[0] + last[1] - before[1]) + " messages sent during the outage ("
                            + replayed + " received since), last owed arrived " + Report.fmt(lagMs)
                            + " ms after REJOIN_SUCCEED" + (leaves > 0 ? ", S1 saw R leave " + leaves + "×" : "");
                    perOutage.add(line);
                    bench.log("message-replay: %s", line);
                }
                sending.set(false);
                senders.join();
                senders = null;
                for (int k = 0; k < 2; k++) {
                    check(r.messages().awaitSeq(0, s[k].uid(), sent[k].get(), Duration.ofSeconds(20)),
                            "R: the last message of " + s[k].uid() + " did not arrive");
                }
                Local.sleepMillis(300);
                List<MessageProbe.Got> all = r.messages().since(0);
                MessageProbe.Tally t1 = MessageProbe.tally(all, S1, 1, sent[0].get());
                MessageProbe.Tally t2 = MessageProbe.tally(all, S2, 1, sent[1].get());
                lost = t1.lost() + t2.lost();
                duplicated = t1.duplicated() + t2.duplicated();
                reordered = t1.reordered() + t2.reordered();
                owed = t1.owed() + t2.owed();
                tallyText = "S1 → R: " + t1 + "; S2 → R: " + t2 + (refused.isEmpty() ? "" : "; sendMessage refused "
                        + refused);
                for (MessageRoom.Peer p : peers) {
                    for (int[] u : p.messages().undelivered()) {
                        tallyText += "; " + p.uid() + ": onMessagesUndelivered(" + u[0] + ", " + ErrorCode.nameOf(u[1]) + ")";
                    }
                }
            } finally {
                sending.set(false);
                if (senders != null) {
                    senders.join();
                }
                peers.forEach(MessageRoom.Peer::close);
                network.close();
            }
        }
        add(Metric.of(id(), "replay after a 5 s outage (100 msg/s): REJOIN_SUCCEED → last owed message", "ms", lag)
                .goal("≤ 50 ms (everything owed within recovery + 50 ms)", m -> m.p99 <= GOAL_MS)
                .note("R cut 5 s (blackhole both paths both ways) while S1 and S2 send 50/s each; the lag from R's "
                        + "(CONNECTED, REJOIN_SUCCEED) until R's onMessage of the last message sent before the restore "
                        + "(negative: it came first); " + String.join("; ", perOutage)));
        add(Metric.of(id(), "replay after a 5 s outage: recovery (restore → REJOIN_SUCCEED)", "ms", recovery)
                .goalText("report (the recovery rows judge it)"));
        long l = lost;
        long d = duplicated;
        long re = reordered;
        Metric m = Metric.value(id(), "replay after 5 s outages: messages lost / duplicated to the receiver", "",
                l + " lost / " + d + " duplicated (" + re + " reordered) of " + owed, outages);
        m.goal("0 / 0", x -> l == 0 && d == 0 && re == 0).note(tallyText);
        m.extra("lost", l).extra("duplicated", d).extra("reordered", re).extra("owed", owed);
        add(m);
    }
}
