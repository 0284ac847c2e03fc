package io.roomlink.bench.scenario;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.roomlink.ConnectionState;
import io.roomlink.ConnectionStateChangeReason;
import io.roomlink.ErrorCode;
import io.roomlink.RoomEngine;
import io.roomlink.RoomEngineListener;
import io.roomlink.UserLeaveReason;
import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.CheckFailed;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.report.Metric;
import io.roomlink.bench.report.NativeHeap;
import io.roomlink.bench.report.Report;
import io.roomlink.bench.report.Samples;
import io.roomlink.server.protocol.MediaCodec;
import io.roomlink.server.protocol.MediaPacket;
import io.roomlink.server.protocol.Message;
import io.roomlink.server.protocol.WireCodec;
import io.roomlink.testkit.ScriptedServer;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The SDK against a hostile server (a ScriptedServer in this JVM): endless PEER_JOINED of distinct
 * uids while the listener takes 0.1 ms per callback (heap and RSS growth per engine, OOM or not),
 * close() under a signal PONG flood, and reconnect attempts per second against a server that
 * answers every request twice.
 */
final class HostileServerVsSdk extends Scenario {
    private static final int MAX_PEERS = 10_000;

    HostileServerVsSdk() {
        super("hostile-server", "hostile server vs SDK");
    }

    /** Counts; presence callbacks take {@code presenceNanos}. */
    private static final class Listener implements RoomEngineListener {
        final long presenceNanos;
        final AtomicInteger joined = new AtomicInteger();
        volatile ConnectionState state = ConnectionState.DISCONNECTED;

        Listener(long presenceNanos) {
            this.presenceNanos = presenceNanos;
        }

        @Override
        public void onConnectionStateChanged(ConnectionState s, ConnectionStateChangeReason reason) {
            state = s;
        }

        @Override
        public void onUserJoined(long uid) {
            joined.incrementAndGet();
            LockSupport.parkNanos(presenceNanos);
        }

        @Override
        public void onUserLeave(long uid, UserLeaveReason reason) {
            LockSupport.parkNanos(presenceNanos);
        }
    }

    @Override
    public void run(Bench bench) throws Exception {
        int floodFactor = bench.size(10, 100); // PEER_JOINED sent = this x the presence cap
        int closes = bench.size(5, 20);
        config.put("presenceFlood", floodFactor + " x 10,000 distinct PEER_JOINED, listener 0.1 ms per callback");
        config.put("pongFlood", closes + " engines, each closed under a signal PONG flood, as many under a media one");
        config.put("engine", "defaults; plaintext scripted server in the bench JVM");
        presenceFlood(bench, floodFactor);
        closeUnderPongFlood(bench, closes);
        closeUnderMediaFlood(bench, closes);
        doubleAnswers(bench);
    }

    private void presenceFlood(Bench bench, int floodFactor) throws Exception {
        try (ScriptedServer server = new ScriptedServer()) {
            AtomicLong sent = new AtomicLong();
            server.afterAnswer = ScriptedServer.peerJoinedFlood(sent);
            Listener listener = new Listener(100_000);
            boolean oom = false;
            long closeMs;
            long heapDuring;
            long rssDuring;
            long nativeDuring = -1;
            RoomEngine engine = joined(server, listener);
            // The baseline once joined (the flood has only begun): growth is what the flood costs.
            long heapBefore = heapAfterGc();
            long rssBefore = rssKiB();
            long nativeBefore = NativeHeap.inUse();
            long sentAtBaseline = sent.get();
            try {
                long deadline = System.nanoTime() + 120_000_000_000L;
                while (sent.get() < (long) floodFactor * MAX_PEERS && System.nanoTime() < deadline) {
                    Local.sleepMillis(20); // the attack runs on its own thread; this only samples it
                }
                heapDuring = heapAfterGc();
                rssDuring = rssKiB();
                nativeDuring = NativeHeap.inUse();
                check(listener.state == ConnectionState.CONNECTED, "engine not CONNECTED under the flood: " + listener.state);
            } catch (OutOfMemoryError e) {
                oom = true;
                heapDuring = -1;
                rssDuring = -1;
            } finally {
                long t0 = System.nanoTime();
                engine.close();
                closeMs = (System.nanoTime() - t0) / 1_000_000;
            }
            boolean noOom = !oom;
            add(Metric.value(id(), "endless PEER_JOINED, slow listener: memory per engine", "KiB",
                    "native malloc +" + ((nativeDuring - nativeBefore) >> 10) + " KiB, Java heap +"
                            + ((heapDuring - heapBefore) >> 10) + " KiB, " + (oom ? "OOM" : "0 OOM"), 1)
                    .goal("0 OOM, bounded memory per engine (report)", m -> noOom)
                    .note(sent.get() + " PEER_JOINED sent (" + sentAtBaseline + " at the baseline, taken once "
                            + "joined); " + listener.joined.get() + " reported (cap 10,000); close() " + closeMs + " ms; "
                            + "Java heap after a GC; native = glibc malloc in use over all arenas (malloc_info); the bench JVM's RSS "
                            + "grew " + (rssDuring - rssBefore) + " KiB, mostly the JVM heap the flooding "
                            + "server in the same JVM made it commit")
                    .extra("peerJoinedSent", sent.get()).extra("heapKbGrowth", (heapDuring - heapBefore) >> 10)
                    .extra("rssKbGrowth", rssDuring - rssBefore)
                    .extra("nativeKbGrowth", (nativeDuring - nativeBefore) >> 10));
            bench.log("hostile-server: presence flood of %d: native +%d KiB, heap +%d KiB, RSS +%d KiB, %d reported",
                    sent.get(), (nativeDuring - nativeBefore) >> 10, (heapDuring - heapBefore) >> 10,
                    rssDuring - rssBefore, listener.joined.get());
        }
    }

    private void closeUnderPongFlood(Bench bench, int closes) throws Exception {
        ByteBuf buf = Unpooled.buffer();
        for (int i = 0; i < 4096; i++) {
            WireCodec.encode(new Message.Pong(1L << 40), buf);
        }
        byte[] burst = ByteBufUtil.getBytes(buf);
        Samples samples = new Samples();
        try (ScriptedServer server = new ScriptedServer()) {
            server.afterAnswer = ScriptedServer.rawFlood("pong-flood", burst);
            for (int i = 0; i < closes; i++) {
                Listener listener = new Listener(0);
                RoomEngine engine = joined(server, listener);
                Local.sleepMillis(200); // let the flood fill the connection
                long t0 = System.nanoTime();
                engine.close();
                samples.add(Local.ms(System.nanoTime() - t0));
            }
        }
        Metric m = Metric.of(id(), "close() under a signal PONG flood", "ms", samples);
        add(m.goal("≤ 100 ms", x -> x.max != null && x.max <= 100));
        bench.log("hostile-server: close() under a PONG flood: p50 %s ms, max %s ms", Report.fmt(m.p50), Report.fmt(m.max));
    }

    private void closeUnderMediaFlood(Bench bench, int closes) throws Exception {
        Samples samples = new Samples();
        try (ScriptedServer server = new ScriptedServer()) {
            for (int i = 0; i < closes; i++) {
                Listener listener = new Listener(0);
                RoomEngine engine = joined(server, listener);
                java.net.SocketAddress client = server.mediaClient;
                long key = server.mediaKey;
                AtomicLong sent = new AtomicLong();
                Thread flood = new Thread(() -> {
                    try {
                        for (int seq = 0; !Thread.currentThread().isInterrupted(); seq++) {
                            server.sendMedia(client, new MediaPacket(MediaCodec.PONG, key, seq, 1));
                            sent.incrementAndGet();
                        }
                    } catch (java.io.IOException e) {
                        // the socket is closed
                    }
                }, "media-flood");
                flood.start();
                Local.sleepMillis(200); // let the flood fill the socket
                long t0 = System.nanoTime();
                engine.close();
                samples.add(Local.ms(System.nanoTime() - t0));
                flood.interrupt();
                flood.join();
            }
        }
        Metric m = Metric.of(id(), "close() under a media PONG flood", "ms", samples);
        add(m.goal("≤ 100 ms", x -> x.max != null && x.max <= 100));
        bench.log("hostile-server: close() under a media flood: p50 %s ms, max %s ms", Report.fmt(m.p50), Report.fmt(m.max));
    }

    private void doubleAnswers(Bench bench) throws Exception {
        try (ScriptedServer server = new ScriptedServer()) {
            server.answerTwice = true;
            Listener listener = new Listener(0);
            RoomEngine engine = RoomEngine.create(config(server).build(), listener);
            check(engine.joinChannel("", "room", 42) == ErrorCode.OK, "join refused");
            long seconds = 10;
            Local.sleepMillis(seconds * 1000); // the measurement window
            int attempts = server.accepted.get();
            engine.close();
            double perSecond = attempts / (double) seconds;
            add(Metric.value(id(), "reconnect attempts against a server that answers twice", "attempts/s",
                    Report.fmt(perSecond) + " per second (" + attempts + " in " + seconds + " s)", 1)
                    .goal("≤ 4 per second", x -> perSecond <= 4)
                    .note("before damping: ~150 per second (issue 10)")
                    .extra("attempts", attempts));
            bench.log("hostile-server: double answers: %d attempts in %d s", attempts, seconds);
        }
    }

    /** The ScriptedServer speaks plaintext: once TLS is the default, {@code .plaintext(true)} goes here. */
    private static io.roomlink.RoomEngineConfig.Builder config(ScriptedServer server) {
        return Local.config(server.signalPort()).plaintext(true); // ScriptedServer speaks the plaintext wire
    }

    private static RoomEngine joined(ScriptedServer server, Listener listener) {
        RoomEngine engine = RoomEngine.create(config(server).build(), listener);
        CheckFailed.check(engine.joinChannel("", "room", 42) == ErrorCode.OK, "join refused");
        long deadline = System.nanoTime() + Local.WAIT.toNanos();
        while (listener.state != ConnectionState.CONNECTED) {
            if (System.nanoTime() > deadline) {
                engine.close();
                throw new CheckFailed("not CONNECTED to the scripted server: " + listener.state);
            }
            Local.sleepMillis(5);
        }
        return engine;
    }

    private static long heapAfterGc() {
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static long rssKiB() throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new CheckFailed("no VmRSS in /proc/self/status");
    }
}
