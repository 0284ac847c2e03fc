package io.roomlink.bench.scenario;

import io.roomlink.ConnectionState;
import io.roomlink.ErrorCode;
import io.roomlink.RoomEngine;
import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.harness.Probe;
import io.roomlink.bench.report.Metric;
import io.roomlink.bench.report.Report;
import io.roomlink.bench.report.Samples;
import io.roomlink.testkit.FaultProxy;
import io.roomlink.testkit.FaultProxy.Path;
import io.roomlink.testkit.TestRoomServer;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;

/**
 * What TLS 1.3 on signaling costs: repeated joins of one engine (each a fresh TCP connection and,
 * with TLS, a full handshake: no session resumption) through a FaultProxy at 0 and 50 ms RTT,
 * against a self-signed TLS server and a plaintext one; and the server's CPU per join (CPU time
 * of its accept and I/O threads over the 0 ms RTT joins, in this process).
 */
final class TlsCost extends Scenario {
    TlsCost() {
        super("tls", "TLS cost");
    }

    @Override
    public void run(Bench bench) {
        int[] rtts = {0, 50};
        config.put("joinsPerCase", bench.quick ? "20 at 0 ms, 8 at 50 ms" : "200 at 0 ms, 40 at 50 ms");
        config.put("rtt", "FaultProxy.delay(BOTH, rtt/2) each way");
        int warmups = bench.size(10, 100);
        config.put("warmupJoins", warmups + " per case, not measured");
        config.put("tls", "TLS 1.3, ECDSA P-256 self-signed, JDK provider on the server, OpenSSL 3 in the core");
        for (int rtt : rtts) {
            int joins = rtt == 0 ? bench.size(20, 200) : bench.size(8, 40);
            double[] p50 = new double[2];
            double[] cpuUs = new double[2];
            for (int mode = 0; mode < 2; mode++) {
                boolean tls = mode == 0;
                TestRoomServer.Builder b = TestRoomServer.builder();
                if (!tls) {
                    b.plaintext();
                }
                try (TestRoomServer rooms = b.start()) {
                    FaultProxy proxy = rooms.newFaultProxy();
                    if (rtt > 0) {
                        proxy.delay(Path.BOTH, Duration.ofMillis(rtt / 2));
                    }
                    Probe probe = new Probe("tls-" + tls + "-" + rtt);
                    Samples latency = new Samples();
                    try (RoomEngine engine = RoomEngine.create(
                            Local.config(proxy.signalPort()).plaintext(!tls).build(), probe)) {
                        // Steady state: the server's JIT has compiled the JDK's handshake code.
                        for (int i = 0; i < warmups; i++) {
                            join(rooms, engine, probe, "warmup-" + i, 7);
                            leave(engine, probe);
                        }
                        long cpu0 = serverCpuNanos();
                        for (int i = 0; i < joins; i++) {
                            latency.add(join(rooms, engine, probe, "room-" + i, 7));
                            leave(engine, probe);
                        }
                        cpuUs[mode] = (serverCpuNanos() - cpu0) / 1e3 / joins;
                    }
                    p50[mode] = Samples.percentile(latency.sorted(), 50);
                    add(Metric.of(id(), "join latency, " + rtt + " ms RTT, " + (tls ? "TLS 1.3" : "plaintext"), "ms",
                            latency).goalText(tls ? "≤ plaintext + 1 RTT + 2 ms (next row)" : "report (baseline)"));
                }
            }
            double extra = p50[0] - p50[1];
            double goal = rtt + 2.0;
            add(Metric.value(id(), "TLS extra join latency p50, " + rtt + " ms RTT", "ms", Report.fmt(extra), joins)
                    .goal("≤ 1 RTT + 2 ms = " + Report.fmt(goal) + " ms", m -> extra <= goal));
            if (rtt == 0) {
                add(Metric.value(id(), "server CPU per join (accept + I/O threads), TLS 1.3", "µs",
                        Report.fmt(cpuUs[0]), joins).goalText("report"));
                add(Metric.value(id(), "server CPU per join (accept + I/O threads), plaintext", "µs",
                        Report.fmt(cpuUs[1]), joins).goalText("report"));
            }
            bench.log("TLS cost at %d ms RTT: p50 TLS %.2f ms, plaintext %.2f ms", rtt, p50[0], p50[1]);
        }
    }

    /** CPU time of the room servers' accept and I/O threads in this process. */
    private static long serverCpuNanos() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null && (info.getThreadName().startsWith("roomlink-io")
                    || info.getThreadName().startsWith("roomlink-accept"))) {
                long t = threads.getThreadCpuTime(info.getThreadId());
                if (t > 0) {
                    sum += t;
                }
            }
        }
        return sum;
    }

    private static double join(TestRoomServer rooms, RoomEngine engine, Probe probe, String channel, long uid) {
        String token = rooms.token(Local.APP_KEY, channel, uid);
        int index = probe.size();
        long start = System.nanoTime();
        int rc = engine.joinChannel(token, channel, uid);
        check(rc == ErrorCode.OK, "joinChannel returned " + ErrorCode.nameOf(rc));
        Probe.Ev joined = probe.require(index, e -> e.kind() == Probe.Kind.JOIN, Local.WAIT, "onJoinChannel");
        check(joined.code() == ErrorCode.OK, channel + ": join failed with " + ErrorCode.nameOf(joined.code()));
        check(engine.getConnectionState() == ConnectionState.CONNECTED, channel + ": not CONNECTED after the join");
        return Local.ms(joined.nanos() - start);
    }

    private static void leave(RoomEngine engine, Probe probe) {
        int index = probe.size();
        check(engine.leaveChannel() == ErrorCode.OK, "leaveChannel failed");
        probe.require(index, e -> e.kind() == Probe.Kind.LEAVE, Local.WAIT, "onLeaveChannel");
    }
}
