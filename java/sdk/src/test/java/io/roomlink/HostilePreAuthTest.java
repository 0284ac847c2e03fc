package io.roomlink;

import static io.roomlink.Fixtures.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.roomlink.server.ErrorCodes;
import io.roomlink.server.RoomServer;
import io.roomlink.server.protocol.Message;
import io.roomlink.server.protocol.WireCodec;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Unauthenticated and non-reading clients: what they can make the server hold is bounded, it is
 * given back, and two witness engines in the same server see nothing.
 */
class HostilePreAuthTest {
    private static final long MIB = 1 << 20;

    /** Direct memory held by the server's buffers (the test JVM's engines are native and use none). */
    private static long nettyDirectBytes() {
        return ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric().usedDirectMemory();
    }

    @Test
    void aFirstFrameLongerThanTheLargestJoinIsRefusedAtItsLengthField() throws Exception {
        try (RoomServer server = Fixtures.server().plaintext().start(); RawSignal c = new RawSignal(server.signalPort())) {
            c.sendRaw(RawSignal.header(WireCodec.MAX_FIRST_FRAME + 1, WireCodec.JOIN));
            Message.Error err = assertInstanceOf(Message.Error.class, c.read(5000));
            assertEquals(ErrorCodes.PROTOCOL, err.code());
            assertTrue(err.message().contains("before JOIN/RESUME"), err.message());
            assertTrue(c.awaitClosed(5000));
            assertEquals(1, server.stats().preAuthViolations());
        }
    }

    @Test
    void theLargestJoinStillFits() throws Exception {
        String big = "k".repeat(64);
        Message.Join join = new Message.Join(big, "c".repeat(64), 1, "t".repeat(1024), 1, new byte[16]);
        int len = WireCodec.encode(join).length - WireCodec.LENGTH_FIELD;
        assertEquals(WireCodec.MAX_FIRST_FRAME, len, "MAX_FIRST_FRAME is the largest JOIN, mediaSecret included");
        try (RoomServer server = Fixtures.server().plaintext().start(); RawSignal c = new RawSignal(server.signalPort())) {
            c.send(join);
            Message.JoinErr err = assertInstanceOf(Message.JoinErr.class, c.read(5000));
            assertEquals(ErrorCodes.INVALID_TOKEN, err.code()); // decoded and judged, not cut off
        }
    }

    @Test
    void twoHundredNonReadingPreAuthPingersGetTenPongsEachAndAreClosed() throws Exception {
        int pingers = 200;
        try (RoomServer server = Fixtures.server().plaintext().start();
                Witnesses witnesses = Witnesses.join(server, "witnessed")) {
            byte[] burst = pings(1000);
            List<Socket> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < pingers; i++) {
                    Socket s = new Socket();
                    s.connect(new InetSocketAddress("127.0.0.1", server.signalPort()), 5000);
                    sockets.add(s);
                    s.getOutputStream().write(burst); // never reads
                }
                Fixtures.awaitTrue(() -> server.stats().preAuthViolations() == pingers, WAIT,
                        "every pinger cut off after " + 10 + " PINGs (" + server.stats() + ")");
                Fixtures.awaitTrue(() -> server.connectionCount() <= 4, WAIT, "the pingers' connections to close");
            } finally {
                sockets.forEach(HostilePreAuthTest::closeQuietly);
            }
            witnesses.assertUndisturbed();
        }
    }

    @Test
    void nonReadingJoinedPingersStopBeingReadAndAreBounded() throws Exception {
        int clients = 4;
        long highWater = 256 * 1024;
        try (RoomServer server = Fixtures.server().plaintext().writeBufferLimits((int) highWater, 4 * highWater)
                .joinRatePerIp(1000, 1000).start();
                Witnesses witnesses = Witnesses.join(server, "witnessed")) {
            long before = nettyDirectBytes();
            long idleBefore = server.stats().idleDisconnects();
            List<Thread> writers = new ArrayList<>();
            List<RawSignal> conns = new ArrayList<>();
            long[] peak = {0};
            try {
                for (int i = 0; i < clients; i++) {
                    RawSignal c = new RawSignal(server.signalPort());
                    conns.add(c);
                    c.send(new Message.Join(Fixtures.APP_KEY, "pingers", 7000 + i, Fixtures.token("pingers", 7000 + i),
                            1000 + i, new byte[16]));
                    Thread t = new Thread(() -> blast(c), "pinger-" + i);
                    t.setDaemon(true);
                    t.start();
                    writers.add(t);
                }
                Fixtures.awaitTrue(() -> {
                    peak[0] = Math.max(peak[0], nettyDirectBytes() - before);
                    return server.stats().writePauses() >= clients;
                }, Duration.ofSeconds(60), "every non-reader to be paused (" + server.stats() + ", " + BLASTED.get()
                        + " bytes sent)");
                // paused, it sends nothing the server hears: the idle timeout (or the backlog cap) ends it
                Fixtures.awaitTrue(() -> {
                    peak[0] = Math.max(peak[0], nettyDirectBytes() - before);
                    return server.stats().idleDisconnects() - idleBefore + server.stats().slowConsumerDisconnects()
                            >= clients;
                }, Duration.ofSeconds(30), "the server to drop the paused non-readers (" + server.stats() + ")");
            } finally {
                conns.forEach(RawSignal::close);
            }
            for (Thread t : writers) {
                t.join(WAIT.toMillis());
            }
            System.out.printf("non-reading joined pingers: %d bytes of PINGs sent, server direct memory peak +%d KiB, %s%n",
                    BLASTED.get(), peak[0] >> 10, server.stats());
            assertTrue(peak[0] < 64 * MIB, "server direct memory grew by " + peak[0] / MIB + " MiB");
            witnesses.assertUndisturbed();
        }
    }

    @Test
    void fiveThousandHalfFramesAreBoundedAndGivenBack() throws Exception {
        int n = 5000;
        // one loopback address stands for the many a real flood comes from: the per-address caps step aside
        try (RoomServer server = Fixtures.server().plaintext().maxConnectionsPerIp(n + 10).connectionRatePerIp(2 * n, 2 * n)
                .handshakeTimeout(Duration.ofSeconds(3)).start();
                Witnesses witnesses = Witnesses.join(server, "witnessed")) {
            long before = nettyDirectBytes();
            long peak1 = halfFrames(server, n, 1) - before;
            long after1 = nettyDirectBytes() - before;
            long peak2 = halfFrames(server, n, 2) - before;
            long after2 = nettyDirectBytes() - before;
            String figures = String.format("held %d KiB at the first wave, %d KiB after it, %d KiB at the second, "
                    + "%d KiB after it", peak1 >> 10, after1 >> 10, peak2 >> 10, after2 >> 10);
            System.out.println("5,000 half-frames: " + figures);
            // each holds at most one first frame (1192 bytes) in the buffer of its first read
            assertTrue(peak1 < n * 4096L, figures);
            // given back to the allocator: a second wave reuses it, nothing accumulates
            assertTrue(peak2 - peak1 < 4 * MIB && after2 - after1 < 4 * MIB, figures);
            assertEquals(2L * n, server.stats().handshakeTimeouts());
            witnesses.assertUndisturbed();
        }
    }

    /** n connections each sending 1000 bytes of a 1192-byte JOIN; returns the direct memory held while they wait. */
    private static long halfFrames(RoomServer server, int n, int wave) throws Exception {
        byte[] half = new byte[1000];
        ByteBuffer.wrap(half).putInt(WireCodec.MAX_FIRST_FRAME).put((byte) WireCodec.VERSION).put((byte) WireCodec.JOIN);
        List<Socket> sockets = new ArrayList<>(n);
        long held;
        try {
            for (int i = 0; i < n; i++) {
                Socket s = new Socket();
                s.connect(new InetSocketAddress("127.0.0.1", server.signalPort()), 5000);
                s.getOutputStream().write(half);
                sockets.add(s);
            }
            Fixtures.awaitTrue(() -> server.connectionCount() >= n + 2, WAIT, "every half-frame connection accepted");
            held = nettyDirectBytes();
            Fixtures.awaitTrue(() -> server.stats().handshakeTimeouts() >= (long) n * wave, Duration.ofSeconds(30),
                    "the handshake deadline to close every half-frame (" + server.stats() + ")");
            Fixtures.awaitTrue(() -> server.connectionCount() == 2, WAIT, "only the witnesses left");
        } finally {
            sockets.forEach(HostilePreAuthTest::closeQuietly);
        }
        return held;
    }

    @Test
    void connectionsOverThePerAddressCapAreClosedAtOnce() throws Exception {
        try (RoomServer server = Fixtures.server().plaintext().maxConnectionsPerIp(5).start();
                Witnesses witnesses = Witnesses.join(server, "witnessed")) {
            List<RawSignal> conns = new ArrayList<>();
            try {
                for (int i = 0; i < 10; i++) {
                    conns.add(new RawSignal(server.signalPort()));
                }
                int closed = 0;
                for (RawSignal c : conns) {
                    if (c.awaitClosed(200)) {
                        closed++;
                    }
                }
                assertEquals(7, closed, "5 allowed, the 2 witnesses hold 2 of them");
                assertEquals(7, server.stats().connectionsRejectedPerIp());
            } finally {
                conns.forEach(RawSignal::close);
            }
            witnesses.assertUndisturbed();
        }
    }

    private static final java.util.concurrent.atomic.AtomicLong BLASTED = new java.util.concurrent.atomic.AtomicLong();

    private static void blast(RawSignal c) {
        byte[] burst = pings(6400);
        try {
            while (true) {
                c.sendRaw(burst);
                BLASTED.addAndGet(burst.length);
            }
        } catch (IOException e) {
            // closed: by the test, or by the server
        }
    }

    private static byte[] pings(int count) {
        ByteBuffer b = ByteBuffer.allocate(count * 14);
        for (int i = 0; i < count; i++) {
            b.put(WireCodec.encode(new Message.Ping(i)));
        }
        return b.array();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
