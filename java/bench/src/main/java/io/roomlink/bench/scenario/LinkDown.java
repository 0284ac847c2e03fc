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
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

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
        try (ClientNetns net = ClientNetns.create();
             RoomServer server = RoomServer.builder().bindAddress(ClientNetns.HOST_ADDRESS).signalPort(0).mediaPort(0)
                     .tokenSecret(TestRoomServer.DEFAULT_TOKEN_SECRET).plaintext().start()) {
            String token = TokenBuilder.build(TestRoomServer.DEFAULT_TOKEN_SECRET, Local.APP_KEY, "link-down", 1,
                    Instant.now().plus(Duration.ofHours(1)));
            List<String> cmd = new ArrayList<>(net.exec());
            cmd.add(Bench.javaBin());
            cmd.addAll(Bench.childJvmBaseArgs());
            cmd.addAll(List.of("-cp", Bench.classpath(), LinkDownWorker.class.getName(), ClientNetns.HOST_ADDRESS,
                    Integer.toString(server.signalPort()), token, "link-down", "1",
                    net.clientSide, Integer.toString(rounds), Long.toString(SEED)));
            Files.createDirectories(bench.logDir);
            Path log = bench.logDir.resolve("link-down-worker.log");
            Process worker = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
            String error = null;
            boolean done = false;
            try (BufferedReader out = new BufferedReader(
                    new InputStreamReader(worker.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null && !done && error == null) {
                    if (line.startsWith("@sample ")) {
                        String[] f = line.split(" ");
                        detection.add(Local.ms(Long.parseLong(f[1])));
                        ipCommand.add(Local.ms(Long.parseLong(f[2])));
                    } else if (line.startsWith("@err ")) {
                        error = line.substring(5);
                    } else if (line.equals("@done")) {
                        done = true;
                    }
                }
            } finally {
                if (!worker.waitFor(30, TimeUnit.SECONDS)) {
                    worker.destroyForcibly();
                }
            }
            check(error == null, "the link-down worker failed: " + error + " (log: " + log + ")");
            check(done && detection.size() == rounds, "the link-down worker ended after " + detection.size()
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
