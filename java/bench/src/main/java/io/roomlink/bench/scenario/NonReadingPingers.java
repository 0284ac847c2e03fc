package io.roomlink.bench.scenario;

import io.roomlink.bench.attack.AttackedServer;
import io.roomlink.bench.attack.Flood;
import io.roomlink.bench.attack.Witnessed;
import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.report.Metric;

/**
 * 200 non-reading PINGers (issue 10): connections that send pre-JOIN PINGs as fast as the server
 * takes them and never read (each one the server closes is opened again at once), against the
 * standalone server with its defaults, while two witnesses sit in a channel. Before the limits
 * this took the server from 78 MB to 2.59 GB RSS and knocked the witnesses into RECONNECTING.
 */
final class NonReadingPingers extends Scenario {
    NonReadingPingers() {
        super("pingers", "200 non-reading PINGers");
    }

    @Override
    public void run(Bench bench) throws Exception {
        int pingers = 200;
        int seconds = bench.size(5, 20);
        config.put("pingers", pingers);
        config.put("attackSeconds", seconds);
        config.put("server", "RoomServerMain defaults, -Xmx512m");
        try (AttackedServer server = AttackedServer.start(bench, id(), 16384);
                Witnessed witnesses = new Witnessed(server.signalPort, "witnessed")) {
            Local.sleepMillis(500); // let the fresh JVM settle before the baseline
            long coldRss = server.rssKb();
            Attack cold = attack(server, pingers, seconds, false);
            // The attacker's answer to being cut off: reconnect at once, i.e. a connection-rate
            // attack (tens of thousands a second on loopback), on the same, now warm, server.
            long warmRss = server.rssKb();
            Attack warm = attack(server, pingers, seconds, true);
            int disturbed = witnesses.disturbances();
            check(cold.bytesSent > 0 && warm.bytesSent > 0, "the pingers sent nothing");
            double coldMib = (cold.peakRssKb - coldRss) / 1024.0;
            double warmMib = (warm.peakRssKb - warmRss) / 1024.0;
            add(Metric.value(id(), "200 non-reading PINGers: server RSS growth", "MiB",
                            String.format("%.1f MiB", coldMib), 1)
                    .goal("≤ 64 MiB, 0 witness state changes", m -> coldMib <= 64 && disturbed == 0)
                    .note(String.format("RSS %d MiB before, peak %d MiB over %d s; %.1f MB of PINGs sent, %d "
                                    + "connections closed by the server; %d witness state changes "
                                    + "(over both attacks)", coldRss / 1024, cold.peakRssKb / 1024, seconds,
                            cold.bytesSent / 1e6, cold.closedByServer, disturbed)));
            add(Metric.value(id(), "200 non-reading PINGers reconnecting as soon as cut off: server RSS growth", "MiB",
                            String.format("%.1f MiB", warmMib), 1)
                    .goalText("report (a connection-rate attack; no per-address connection-rate limit exists)")
                    .note(String.format("RSS %d MiB before, peak %d MiB; %.1f MB of PINGs sent, %d reconnects in %d s "
                                    + "(-Xmx512m bounds the heap's share)", warmRss / 1024, warm.peakRssKb / 1024,
                            warm.bytesSent / 1e6, warm.closedByServer, seconds)));
            bench.log("pingers: RSS +%.1f MiB, +%.1f MiB reconnecting, %d witness state changes", coldMib,
                    warmMib, disturbed);
        }
    }

    private record Attack(long peakRssKb, long bytesSent, long closedByServer) {
    }

    private static Attack attack(AttackedServer server, int pingers, int seconds, boolean reopen) throws Exception {
        long peak = server.rssKb();
        Flood flood = new Flood(server.signalPort, pingers, Flood.Mode.PING, reopen).start();
        try {
            long until = System.nanoTime() + seconds * 1_000_000_000L;
            while (System.nanoTime() < until) {
                peak = Math.max(peak, server.rssKb());
                Local.sleepMillis(50);
            }
        } finally {
            flood.close();
        }
        Local.sleepMillis(500);
        return new Attack(Math.max(peak, server.rssKb()), flood.bytesSent.get(), flood.closedByServer.get());
    }
}
