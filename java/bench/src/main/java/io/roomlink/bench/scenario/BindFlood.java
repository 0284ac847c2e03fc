package io.roomlink.bench.scenario;

import io.roomlink.bench.attack.AttackedServer;
import io.roomlink.bench.attack.Witnessed;
import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.CheckFailed;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.harness.RawSignal;
import io.roomlink.bench.report.Metric;
import io.roomlink.bench.report.ProcStats;
import io.roomlink.bench.report.Samples;
import io.roomlink.server.TokenBuilder;
import io.roomlink.server.protocol.MediaCodec;
import io.roomlink.server.protocol.MediaKeys;
import io.roomlink.server.protocol.MediaPacket;
import io.roomlink.server.protocol.Message;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * A random-BIND flood (issue 10): well-formed BINDs with random mediaKeys and garbage tags, from
 * as many sender threads as there are cores, as fast as this box makes them, at the standalone
 * server with its defaults while two witnesses sit in a channel. Meanwhile a legitimate client
 * JOINs over and over and times its first BIND to the BIND_ACK (retransmitting every 100 ms, as
 * the engine does). Before the O(1) pending store, 100,000 pps dropped 66 % of all media and a
 * legitimate BIND_ACK took 832 ms at 384,000 pps. "Absorbed per core" is the datagrams the kernel
 * delivered (Udp InDatagrams) per second of server CPU.
 */
final class BindFlood extends Scenario {
    private static final Duration RETRANSMIT = Duration.ofMillis(100);

    BindFlood() {
        super("bind-flood", "random-BIND flood");
    }

    @Override
    public void run(Bench bench) throws Exception {
        int seconds = bench.size(5, 20);
        int senders = Math.max(2, Runtime.getRuntime().availableProcessors());
        config.put("attackSeconds", seconds);
        config.put("senders", senders + " for the goal row, then 1 (what one core makes, reported)");
        config.put("server", "RoomServerMain defaults, -Xmx512m");
        try (AttackedServer server = AttackedServer.start(bench, id(), 16384);
                Witnessed witnesses = new Witnessed(server.signalPort, "witnessed")) {
            Samples quiet = legitimateBinds(server, 20, null);
            double quietP99 = Samples.percentile(quiet.sorted(), 99);
            flood(bench, server, witnesses, senders, seconds, quietP99, true);
            flood(bench, server, witnesses, 1, seconds, quietP99, false);
        }
    }

    /**
     * One flood of {@code seconds} from {@code senders} threads while the legitimate client binds
     * over and over; {@code goalRow}: the row the goal is judged on (the box's full rate).
     */
    private void flood(Bench bench, AttackedServer server, Witnessed witnesses, int senders, int seconds,
            double quietP99, boolean goalRow) throws Exception {
        Map<String, Long> udpBefore = ProcStats.tcpExt("InDatagrams", "RcvbufErrors");
        long cpuBefore = ProcStats.cpuTicks(server.pid());
        long t0 = System.nanoTime();
        Samples attacked;
        long sentTotal;
        try (io.roomlink.testkit.BindFlood flood = io.roomlink.testkit.BindFlood.start("127.0.0.1", server.mediaPort,
                senders)) {
            long until = System.nanoTime() + seconds * 1_000_000_000L;
            attacked = legitimateBinds(server, Integer.MAX_VALUE, () -> System.nanoTime() >= until);
            sentTotal = flood.sent();
        }
        long nanos = System.nanoTime() - t0;
        double elapsed = nanos / 1e9;
        double serverCores = ProcStats.cpuPercent(cpuBefore, ProcStats.cpuTicks(server.pid()), nanos) / 100;
        Map<String, Long> udpAfter = ProcStats.tcpExt("InDatagrams", "RcvbufErrors");
        long delivered = udpAfter.get("InDatagrams") - udpBefore.get("InDatagrams");
        long overflowed = udpAfter.get("RcvbufErrors") - udpBefore.get("RcvbufErrors");
        double pps = sentTotal / elapsed;
        double absorbedPerCore = serverCores > 0 ? delivered / elapsed / serverCores : 0;
        int disturbed = witnesses.disturbances();
        check(attacked.size() > 0, "no legitimate BIND completed during the flood");
        double p99 = Samples.percentile(attacked.sorted(), 99);
        String what = goalRow ? "random-BIND flood" : "random-BIND flood from one sender thread";
        String note = String.format("%.0f BINDs/s sent by %d threads for %.1f s; the kernel delivered %d "
                        + "(%d dropped at a full receive buffer); server %.2f cores busy; %d witness "
                        + "state changes so far; without the flood p99 %.2f ms", pps, senders, elapsed,
                delivered, overflowed, serverCores, disturbed, quietP99);
        Metric latency = Metric.of(id(), what + ": legitimate BIND_ACK latency", "ms", attacked).note(note);
        add(goalRow ? latency.goal("p99 ≤ 50 ms, 0 false outages", m -> p99 <= 50 && disturbed == 0)
                : latency.goalText("report"));
        add(Metric.value(id(), what + ": datagrams absorbed per server core", "pps",
                        String.format("%.0f pps", absorbedPerCore), 1)
                .goalText("report")
                .note(String.format("%d datagrams delivered in %.1f s over %.2f s of server CPU", delivered,
                        elapsed, serverCores * elapsed)));
        bench.log("bind-flood (%d senders): %.0f pps sent, BIND_ACK p99 %.2f ms (%.2f ms quiet), %.0f pps per core, "
                + "%d disturbances", senders, pps, p99, quietP99, absorbedPerCore, disturbed);
    }

    private interface Until {
        boolean done();
    }

    /** JOIN, then time BIND → BIND_ACK; {@code count} times or until {@code until}. */
    private static Samples legitimateBinds(AttackedServer server, int count, Until until) throws Exception {
        Samples out = new Samples();
        SecureRandom random = new SecureRandom();
        InetSocketAddress media = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.mediaPort);
        for (int i = 0; i < count && (until == null || !until.done()); i++) {
            long uid = 50_000 + i;
            long key = random.nextLong() | 1;
            byte[] secret = new byte[MediaKeys.SECRET_LEN];
            random.nextBytes(secret);
            MediaKeys keys = MediaKeys.derive(key, secret);
            try (RawSignal s = new RawSignal(server.signalPort, Duration.ofSeconds(5));
                    DatagramSocket udp = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                s.send(new Message.Join(Local.APP_KEY, "legit", uid, token("legit", uid), key, secret));
                check(s.answer() instanceof Message.JoinOk, "the legitimate JOIN was refused");
                out.add(bindToAck(udp, media, key, keys));
                s.send(new Message.Leave());
                s.answer();
            }
            Local.sleepMillis(20); // a join rate well inside the per-address limit
        }
        return out;
    }

    private static double bindToAck(DatagramSocket udp, InetSocketAddress media, long key, MediaKeys keys)
            throws IOException {
        udp.setSoTimeout((int) RETRANSMIT.toMillis());
        byte[] in = new byte[MediaCodec.MAX_DATAGRAM];
        long start = System.nanoTime();
        for (long counter = 1; System.nanoTime() - start < 5_000_000_000L; counter++) {
            byte[] bind = MediaCodec.seal(new MediaPacket(MediaCodec.BIND, key, counter, (int) counter, 0),
                    keys.clientToServer());
            udp.send(new DatagramPacket(bind, bind.length, media));
            long sentAt = System.nanoTime();
            while (System.nanoTime() - sentAt < RETRANSMIT.toNanos()) {
                DatagramPacket p = new DatagramPacket(in, in.length);
                try {
                    udp.receive(p);
                } catch (SocketTimeoutException e) {
                    break;
                }
                MediaPacket ack = MediaCodec.open(in, 0, p.getLength(), keys.serverToClient());
                if (ack != null && ack.type() == MediaCodec.BIND_ACK) {
                    return (System.nanoTime() - start) / 1e6;
                }
            }
        }
        throw new CheckFailed("no BIND_ACK within 5 s");
    }

    private static String token(String channel, long uid) {
        return TokenBuilder.build(AttackedServer.SECRET, Local.APP_KEY, channel, uid, Instant.now().plusSeconds(3600));
    }
}
