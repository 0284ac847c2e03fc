package io.roomlink.bench.scenario;

import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.ClientNetns;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.report.Metric;
import io.roomlink.bench.report.Samples;
import io.roomlink.bench.worker.LinkDownWorker;
import io.roomlink.server.RoomServer;
import io.roomlink.server.TokenBuilder;
import io.roomlink.testkit.TestRoomServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A local link loss made by the kernel: one engine in a client network namespace
 * ({@link ClientNetns}), its veth taken down with {@code ip link set down}, timed to
 * onConnectionStateChanged(RECONNECTING, SIGNAL_DISCONNECTED), which the rtnetlink watcher
 * reports without waiting for keepalive silence. Where namespaces cannot be made the row says
 * so and carries no number.
 */
final class LinkDown extends Scenario {
    private static final String ROW = "detection of a local link down (netlink)";
    private static final long SEED = 11;

    LinkDown() {
        super("link-down", "local link down (netlink)");
    }

    @Override
    public void run(Bench bench) throws Exception {
        String why = ClientNetns.unavailableReason();
        if (why != null) {
            add(Metric.value(id(), ROW, "ms", "not measured", 0).goalText("p99 ≤ 50 ms")
                    .note("no network namespace on this box: " + why));
            bench.log("link-down: not measured (%s)", why);
            return;
        }
        int rounds = bench.size(5, 30);
        config.put("rounds", rounds);
        config.put("seed", SEED);
        config.put("knobs", "defaults (signal 1 s/1.5 s, media 500 ms/1.5 s)");
        Samples detection = new Samples();
        Samples ipCommand = new Samples();
        try (ClientNetns net = ClientNetns.create(); RoomServer server = ClientNetns.startServer()) {
            String token = TokenBuilder.build(TestRoomServer.DEFAULT_TOKEN_SECRET, Local.APP_KEY, "link-down", 1,
                    Instant.now().plus(Duration.ofHours(1)));
            List<String> args = List.of(ClientNetns.HOST_ADDRESS, Integer.toString(server.signalPort()), token,
                    "link-down", "1", net.clientSide, Integer.toString(rounds), Long.toString(SEED));
            Path log = NamespacedWorker.run(bench, net, "link-down", LinkDownWorker.class, args, f -> {
                if (f[0].equals("@sample")) {
                    detection.add(Local.ms(Long.parseLong(f[1])));
                    ipCommand.add(Local.ms(Long.parseLong(f[2])));
                }
            });
            check(detection.size() == rounds, "the link-down worker ended after " + detection.size()
                    + " of " + rounds + " rounds (log: " + log + ")");
        }
        Metric m = Metric.of(id(), ROW, "ms", detection);
        m.goal("p99 ≤ 50 ms", x -> x.p99 <= 50.0);
        Metric ip = Metric.of(id(), "the `ip link set down` command itself (inside the figure above)", "ms", ipCommand);
        m.note("timed from just before starting `ip link set down` (so it includes starting that process, p50 "
                + String.format("%.1f", ip.p50) + " ms); cuts at random keepalive phases, seed " + SEED);
        add(m);
        add(ip.goalText("report"));
        bench.log("link-down: p50 %.1f ms, p99 %.1f ms (ip itself p50 %.1f ms)", m.p50, m.p99, ip.p50);
    }
}
