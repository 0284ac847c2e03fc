package io.roomlink.bench.scenario;

import io.roomlink.ConnectionState;
import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.harness.Probe;
import io.roomlink.bench.report.Metric;
import io.roomlink.testkit.FaultProxy.Path;
import io.roomlink.testkit.FaultProxy;
import io.roomlink.testkit.TestRoomServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * False outages: engines on a bad but working network (20 % loss and 0–100 ms jitter on both
 * paths, each engine behind a FaultProxy of its own, as the SDK's sustained-loss test sets it up)
 * must never leave CONNECTED. Counts every RECONNECTING during the window.
 */
final class FalseOutages extends Scenario {
    FalseOutages() {
        super("false-outages", "false outages");
    }

    @Override
    public void run(Bench bench) {
        int engines = bench.size(4, 20);
        int seconds = bench.size(20, 300);
        config.put("engines", engines);
        config.put("seconds", seconds);
        config.put("faults", "loss(BOTH, 0.2) + delay(BOTH, 0 ms, jitter 100 ms): UDP dropped, TCP chunks retransmitted "
                + "after 200 ms (doubling while lost in a row)");
        config.put("engine", "defaults");
        int outages = 0;
        int enginesHit = 0;
        long mediaDropped = 0;
        long tcpRetransmits = 0;
        List<String> reasons = new ArrayList<>();
        try (TestRoomServer rooms = TestRoomServer.start()) {
            List<Local.Member> members = new ArrayList<>();
            try {
                for (int i = 0; i < engines; i++) {
                    members.add(Local.startJoin(rooms, rooms.newFaultProxy(), b -> b, "lossy-" + i, 1));
                }
                members.forEach(Local::awaitJoined);
                int[] index = new int[engines];
                for (int i = 0; i < engines; i++) {
                    index[i] = members.get(i).probe().size();
                    FaultProxy p = members.get(i).proxy();
                    p.loss(Path.BOTH, 0.2);
                    p.delay(Path.BOTH, Duration.ZERO, Duration.ofMillis(100));
                }
                long start = System.nanoTime();
                long end = start + seconds * 1_000_000_000L;
                long nextLog = start + 60_000_000_000L;
                while (System.nanoTime() < end) {
                    Local.sleepUntil(Math.min(end, nextLog));
                    if (System.nanoTime() >= nextLog) {
                        int sofar = 0;
                        for (int i = 0; i < engines; i++) {
                            sofar += members.get(i).probe().count(index[i], e -> e.is(ConnectionState.RECONNECTING));
                        }
                        bench.log("false outages: %d s of %d, %d outage(s) so far", (System.nanoTime() - start) / 1_000_000_000L,
                                seconds, sofar);
                        nextLog += 60_000_000_000L;
                    }
                }
                for (int i = 0; i < engines; i++) {
                    FaultProxy.Stats st = members.get(i).proxy().stats();
                    mediaDropped += st.mediaDroppedUpstream() + st.mediaDroppedDownstream();
                    tcpRetransmits += st.signalChunksRetransmitted();
                    members.get(i).proxy().restore();
                }
                for (int i = 0; i < engines; i++) {
                    Local.Member m = members.get(i);
                    List<Probe.Ev> seen = m.probe().since(index[i]);
                    int mine = 0;
                    for (Probe.Ev e : seen) {
                        if (e.is(ConnectionState.RECONNECTING)) {
                            mine++;
                            reasons.add(e.reason().name());
                        }
                    }
                    outages += mine;
                    if (mine > 0) {
                        enginesHit++;
                    }
                    Local.awaitConnected(m);
                }
            } finally {
                members.forEach(Local.Member::close);
            }
        }
        check(mediaDropped > 0, "the proxies dropped no datagram: the loss was not applied");
        check(tcpRetransmits > 0, "the proxies delayed no TCP chunk for retransmission: the loss was not applied");
        int total = outages;
        Metric m = add(Metric.value(id(), "false outages (20 % loss + 100 ms jitter, both paths, " + engines + " engines × "
                + (seconds >= 60 ? seconds / 60 + " min" : seconds + " s") + ")", "outages", total + " outages", engines));
        m.goal("0", x -> total == 0);
        m.note(mediaDropped + " datagrams dropped, " + tcpRetransmits + " TCP chunks retransmitted by the proxies");
        if (total > 0) {
            m.note(enginesHit + " engine(s) hit; reasons: " + String.join(", ", reasons));
        }
        m.extra("enginesHit", enginesHit).extra("reasons", reasons);
        bench.log("false outages: %d", total);
    }
}
