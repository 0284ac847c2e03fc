package io.roomlink.bench.scenario;

import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.ClientNetns;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.report.Metric;
import io.roomlink.bench.report.Samples;
import io.roomlink.bench.worker.KernelDropWorker;
import io.roomlink.server.RoomServer;
import io.roomlink.testkit.TestRoomServer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Recovery after restore, with the cut made by the kernel: engines in a client network namespace
 * ({@link ClientNetns}) behind a veth, an nft table in that namespace DROPs every TCP and UDP
 * packet to and from the server (a pulled cable upstream: nothing answered, SYNs lost and
 * retransmitted by the client's kernel), for 1 / 5 / 20 / 35 s; the time from just before
 * {@code nft delete table} to each engine's (CONNECTED, REJOIN_SUCCEED). Engine and server at the
 * defaults (timeouts 1.5 s, server idle timeout 3 s, grace 10 s: cuts of 20 and 35 s outlast the
 * session). Where namespaces or nft are not available the rows say so and carry no number.
 */
final class KernelDrop extends Scenario {
    /** The goal: p99 ≤ 2 RTT + 100 ms; RTT on a veth ≈ 0.1 ms. */
    private static final double GOAL_MS = 100;
    private static final long SEED = 1111;

    KernelDrop() {
        super("kernel-drop", "recovery after restore, kernel DROP (nft in a namespace)");
    }

    @Override
    public void run(Bench bench) throws Exception {
        int[] lengths = bench.quick ? new int[] {1, 5} : new int[] {1, 5, 20, 35};
        String why = ClientNetns.unavailableReason();
        ClientNetns net = why == null ? ClientNetns.create() : null;
        try {
            if (net != null) {
                why = net.nftUnavailableReason();
            }
            if (why != null) {
                for (int length : lengths) {
                    add(Metric.value(id(), row(length), "ms", "not measured", 0).goalText("p99 ≤ 2 RTT + 100 ms")
                            .note("no kernel faults on this box: " + why));
                }
                bench.log("kernel-drop: not measured (%s)", why);
                return;
            }
            measure(bench, net, lengths);
        } finally {
            if (net != null) {
                net.close();
            }
        }
    }

    private void measure(Bench bench, ClientNetns net, int[] lengths) throws Exception {
        int engines = bench.size(2, 10);
        int rounds = bench.size(1, 2);
        config.put("engines", engines);
        config.put("rounds", rounds);
        config.put("outageSeconds", java.util.Arrays.toString(lengths));
        config.put("seed", SEED);
        config.put("engine", "defaults (signal 1 s/1.5 s, media 500 ms/1.5 s, probe 200 ms)");
        config.put("server", "defaults (idle timeout 3 s, session grace 10 s), plaintext, on the host end of the veth");
        config.put("fault", "nft table in the client namespace: output ip daddr SERVER tcp,udp drop; input ip saddr "
                + "SERVER tcp,udp drop; all engines cut at once at a random keepalive phase, restored by deleting the table");
        Map<Integer, Samples> recovery = new LinkedHashMap<>();
        Map<Integer, Integer> undetected = new LinkedHashMap<>();
        for (int l : lengths) {
            recovery.put(l, new Samples());
            undetected.put(l, 0);
        }
        Samples nftCommand = new Samples();
        try (RoomServer server = ClientNetns.startServer()) {
            List<String> args = List.of(ClientNetns.HOST_ADDRESS, Integer.toString(server.signalPort()),
                    TestRoomServer.DEFAULT_TOKEN_SECRET, Local.APP_KEY, Integer.toString(engines),
                    java.util.Arrays.stream(lengths).mapToObj(Integer::toString).collect(Collectors.joining(",")),
                    Integer.toString(rounds), Long.toString(SEED));
            NamespacedWorker.run(bench, net, "kernel-drop", KernelDropWorker.class, args, f -> {
                if (f[0].equals("@sample")) {
                    recovery.get(Integer.parseInt(f[1])).add(Local.ms(Long.parseLong(f[2])));
                    nftCommand.add(Local.ms(Long.parseLong(f[3])));
                } else if (f[0].equals("@undetected")) {
                    undetected.merge(Integer.parseInt(f[1]), 1, Integer::sum);
                }
            });
        }
        for (int length : lengths) {
            Samples s = recovery.get(length);
            int cuts = engines * rounds;
            int nd = undetected.get(length);
            check(s.size() + nd == cuts, "kernel-drop: " + (s.size() + nd) + " of " + cuts + " results for " + length + " s");
            Metric m = Metric.of(id(), row(length), "ms", s);
            if (s.size() == 0) {
                m.value = "no outage detected (" + nd + " of " + cuts + " cuts)";
                m.goalText("p99 ≤ 2 RTT + 100 ms = 100 ms (nothing to recover from)");
            } else {
                m.goal("p99 ≤ 2 RTT + 100 ms = 100 ms (veth)", x -> x.p99 <= GOAL_MS);
                if (nd > 0) {
                    m.note(nd + " of " + cuts + " cuts were not detected as an outage");
                }
            }
            m.note("from just before `nft delete table` (the command itself: p50 " + String.format("%.1f", Metric.of(
                    id(), "nft", "ms", nftCommand).p50) + " ms) to (CONNECTED, REJOIN_SUCCEED)"
                    + (length > 13 ? "; beyond idle timeout + grace (13 s): the session had expired, RESUME made a fresh one"
                            : "; within grace") + "; random phases, seed " + SEED);
            m.extra("undetectedCuts", nd).extra("cuts", cuts);
            add(m);
            bench.log("kernel-drop: %d s: n=%d p50 %.1f ms p99 %.1f ms max %.1f ms, %d undetected", length, s.size(),
                    m.p50 == null ? Double.NaN : m.p50, m.p99 == null ? Double.NaN : m.p99,
                    m.max == null ? Double.NaN : m.max, nd);
        }
    }

    private static String row(int length) {
        return "recovery after restore, kernel DROP, " + length + " s outage";
    }
}
