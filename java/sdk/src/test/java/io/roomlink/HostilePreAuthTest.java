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
        try (RoomServer server = Fixtures.server().start(); RawSignal c = new RawSignal(server.signalPort())) {
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
        Message.Join join = new Message.Join(big, "c".repeat(64), 1, "t".repeat(1024), 1);
        int len = WireCodec.encode(join).length - WireCodec.LENGTH_FIELD;
        assertEquals(WireCodec.MAX_FIRST_FRAME - 16, len, "MAX_FIRST_FRAME leaves 16 bytes for the mediaSecret");
        try (RoomServer server = Fixtures.server().start(); RawSignal c = new RawSignal(server.signalPort())) {
            c.send(join);
            Message.JoinErr err = assertInstanceOf(Message.JoinErr.class, c.read(5000));
            assertEquals(ErrorCodes.INVALID_TOKEN, err.code()); // decoded and judged, not cut off
        }
    }

    @Test
    void twoHundredNonReadingPreAuthPingersGetTenPongsEachAndAreClosed() throws Exception {
        int pingers = 200;
        try (RoomServer server = Fixtures.server().start();
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
        try (RoomServer server = Fixtures.server().writeBufferLimits((int) highWater, 4 * highWater)
                .joinRatePerIp(1000).start();
                Witnesses witnesses = Witnesses.join(server, "witnessed")) {
            long before = nettyDirectBytes();
            List<Thread> writers = new ArrayList<>();
            List<RawSignal> conns = new ArrayList<>();
            long[] peak = {0};
            try {
                for (int i = 0; i < clients; i++) {
                    RawSignal c = new RawSignal(server.signalPort());
                    conns.add(c);
                    c.send(new Message.Join(Fixtures.APP_KEY, "pingers", 7000 + i, Fixtures.token("pingers", 7000 + i),
                            1000 + i));
                    Thread t = new Thread(() -> blast(c), "pinger-" + i);
                    t.setDaemon(true);
                    t.start();
                    writers.add(t);
                }
                Fixtures.awaitTrue(() -> {
                    peak[0] = Math.max(peak[0], nettyDirectBytes() - before);
                    return server.stats().writePauses() >= clients;
                }, Duration.ofSeconds(60), "every non-reader to be paused (" + server.stats() + ")");
            } finally {
                conns.forEach(RawSignal::close);
            }
            for (Thread t : writers) {
                t.join(WAIT.toMillis());
            }
            assertTrue(peak[0] < 64 * MIB, "server direct memory grew by " + peak[0] / MIB + " MiB");
            witnesses.assertUndisturbed();
        }
    }

    @Test
    void fiveThousandHalfFramesAreBoundedAndGivenBack() throws Exception {
        int n = 5000;
        try (RoomServer server = Fixtures.server().maxConnectionsPerIp(n + 10).handshakeTimeout(Duration.ofSeconds(3))
                .start();
                Witnesses witnesses = Witnesses.join(server, "witnessed")) {
            long before = nettyDirectBytes();
            byte[] half = new byte[1000];
            ByteBuffer.wrap(half).putInt(WireCodec.MAX_FIRST_FRAME).put((byte) WireCodec.VERSION)
                    .put((byte) WireCodec.JOIN);
            List<Socket> sockets = new ArrayList<>(n);
            long peak = 0;
            try {
                for (int i = 0; i < n; i++) {
                    Socket s = new Socket();
                    s.connect(new InetSocketAddress("127.0.0.1", server.signalPort()), 5000);
                    s.getOutputStream().write(half);
                    sockets.add(s);
                }
                peak = nettyDirectBytes() - before;
                Fixtures.awaitTrue(() -> server.stats().handshakeTimeouts() >= n, Duration.ofSeconds(30),
                        "the handshake deadline to close every half-frame (" + server.stats() + ")");
            } finally {
                sockets.forEach(HostilePreAuthTest::closeQuietly);
            }
            // each holds at most one first frame (1192 bytes) in a buffer of its first read
            assertTrue(peak < 5000L * 4096, "5,000 half-frames held " + peak / MIB + " MiB");
            Fixtures.awaitTrue(() -> nettyDirectBytes() - before < 8 * MIB, WAIT,
                    "the half-frames' memory to be given back (" + (nettyDirectBytes() - before) / MIB + " MiB held)");
            witnesses.assertUndisturbed();
        }
    }

    @Test
    void connectionsOverThePerAddressCapAreClosedAtOnce() throws Exception {
        try (RoomServer server = Fixtures.server().maxConnectionsPerIp(5).start();
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

    private static void blast(RawSignal c) {
        byte[] burst = pings(6400);
        try {
            while (true) {
                c.sendRaw(burst);
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
