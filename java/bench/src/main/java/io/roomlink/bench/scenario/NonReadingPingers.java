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
    @Override
    public String id() {
        return "pingers";
    }

    @Override
    public String title() {
        return "200 non-reading PINGers";
    }

    @Override
    public void run(Bench bench) throws Exception {
        int pingers = 200;
        int seconds = bench.size(5, 20);
        config.put("pingers", pingers);
        config.put("attackSeconds", seconds);
        config.put("server", "RoomServerMain defaults, -Xmx512m");
        try (AttackedServer server = AttackedServer.start(bench, id(), 65536);
                Witnessed witnesses = new Witnessed(server.signalPort, "witnessed")) {
            Local.sleepMillis(500); // let the fresh JVM settle before the baseline
            long baseRss = server.rssKb();
            long peakRss = baseRss;
            Flood flood = new Flood(server.signalPort, pingers, Flood.Mode.PING).start();
            try {
                long until = System.nanoTime() + seconds * 1_000_000_000L;
                while (System.nanoTime() < until) {
                    peakRss = Math.max(peakRss, server.rssKb());
                    Local.sleepMillis(50);
                }
            } finally {
                flood.close();
            }
            long growthKb = peakRss - baseRss;
            int disturbed = witnesses.disturbances();
            check(flood.bytesSent.get() > 0, "the pingers sent nothing");
            double growthMib = growthKb / 1024.0;
            add(Metric.value(id(), "200 non-reading PINGers: server RSS growth", "MiB",
                            String.format("%.1f MiB", growthMib), 1)
                    .goal("≤ 64 MiB, 0 witness state changes", m -> growthMib <= 64 && disturbed == 0)
                    .note(String.format("RSS %d MiB before, peak %d MiB over %d s; %.1f MB of PINGs sent, %d "
                                    + "connections closed by the server and reopened; %d witness state changes",
                            baseRss / 1024, peakRss / 1024, seconds, flood.bytesSent.get() / 1e6,
                            flood.closedByServer.get(), disturbed)));
            bench.log("pingers: RSS +%.1f MiB, %d witness state changes", growthMib, disturbed);
        }
    }
}
