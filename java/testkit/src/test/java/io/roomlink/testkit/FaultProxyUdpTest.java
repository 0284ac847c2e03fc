package io.roomlink.testkit;

import static io.roomlink.testkit.Await.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.roomlink.testkit.FaultProxy.Direction;
import io.roomlink.testkit.FaultProxy.Path;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.PortUnreachableException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FaultProxyUdpTest {
    private static final Duration QUIET = Duration.ofMillis(300);

    private FaultProxy proxy;
    private UdpPeer server;
    private final List<UdpPeer> clients = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        server = new UdpPeer();
        proxy = FaultProxy.start(42);
        proxy.forwardMediaTo("127.0.0.1", server.port());
    }

    @AfterEach
    void tearDown() {
        proxy.close();
        server.close();
        clients.forEach(UdpPeer::close);
    }

    private UdpPeer client() throws IOException {
        UdpPeer c = new UdpPeer();
        clients.add(c);
        return c;
    }

    /** Sends one datagram upstream and returns the address the server saw it from. */
    private SocketAddress sendUp(UdpPeer client, int value) throws IOException {
        client.sendInt(value, proxy.mediaPort());
        DatagramPacket p = server.receive(WAIT);
        assertNotNull(p, "datagram " + value + " should reach the server");
        assertEquals(value, UdpPeer.intOf(p));
        return p.getSocketAddress();
    }

    /** Waits until the proxy has dealt with {@code n} datagrams in {@code d}: sent or dropped. */
    private void awaitProcessed(Direction d, long n) {
        Await.until(WAIT, n + " datagrams " + d + " processed", () -> {
            FaultProxy.Stats s = proxy.stats();
            long done = d == Direction.UPSTREAM
                    ? s.mediaDatagramsUpstream() + s.mediaDroppedUpstream()
                    : s.mediaDatagramsDownstream() + s.mediaDroppedDownstream();
            return done >= n && s.mediaDatagramsHeld() == 0;
        });
    }

    @Test
    void forwardsBothWaysWithOneUpstreamSocketPerClient() throws IOException {
        UdpPeer a = client();
        UdpPeer b = client();
        SocketAddress seenA = sendUp(a, 1);
        SocketAddress seenB = sendUp(b, 2);
        assertNotEquals(seenA, seenB, "the server must see each client at its own address");
        assertEquals(seenA, sendUp(a, 3), "a client keeps its upstream socket");

        server.sendInt(10, seenA);
        server.sendInt(20, seenB);
        DatagramPacket toA = a.receive(WAIT);
        DatagramPacket toB = b.receive(WAIT);
        assertEquals(10, UdpPeer.intOf(toA));
        assertEquals(20, UdpPeer.intOf(toB));
        assertEquals(proxy.mediaPort(), toA.getPort(), "replies come from the proxy's media port");

        FaultProxy.Stats s = proxy.stats();
        assertEquals(2, s.mediaClients());
        assertEquals(3, s.mediaDatagramsUpstream());
        assertEquals(2, s.mediaDatagramsDownstream());
    }

    @Test
    void idleUpstreamSocketsAreClosedAndReopenedOnDemand() throws IOException {
        try (FaultProxy quick = FaultProxy.start(1, Duration.ofMillis(200))) {
            quick.forwardMediaTo("127.0.0.1", server.port());
            UdpPeer c = client();
            c.sendInt(1, quick.mediaPort());
            DatagramPacket first = server.receive(WAIT);
            assertNotNull(first);
            assertEquals(1, quick.stats().mediaClients());
            Await.until(WAIT, "the idle upstream socket to be closed", () -> quick.stats().mediaClients() == 0);
            c.sendInt(2, quick.mediaPort());
            DatagramPacket second = server.receive(WAIT);
            assertNotNull(second, "a new upstream socket carries the next datagram");
            assertEquals(1, quick.stats().mediaClients());
        }
    }

    @Test
    void blackholeDropsOnlyTheChosenDirection() throws IOException {
        UdpPeer c = client();
        SocketAddress seen = sendUp(c, 0);

        proxy.blackhole(Path.MEDIA, Direction.UPSTREAM);
        c.sendInt(1, proxy.mediaPort());
        assertNull(server.receive(QUIET), "upstream is cut");
        server.sendInt(2, seen);
        assertEquals(2, UdpPeer.intOf(c.receive(WAIT)), "downstream still flows");
        assertEquals(1, proxy.stats().mediaDroppedUpstream());

        proxy.restore();
        assertNull(server.receive(Duration.ofMillis(100)), "a blackholed datagram is lost, not held");
        proxy.blackhole(Path.MEDIA, Direction.DOWNSTREAM);
        sendUp(c, 3);
        server.sendInt(4, seen);
        assertNull(c.receive(QUIET), "downstream is cut");
        assertEquals(1, proxy.stats().mediaDroppedDownstream());

        proxy.restore();
        server.sendInt(5, seen);
        assertEquals(5, UdpPeer.intOf(c.receive(WAIT)));
    }

    @Test
    void signalBlackholeLeavesMediaAlone() throws IOException {
        UdpPeer c = client();
        proxy.blackhole(Path.SIGNAL, Direction.BOTH);
        sendUp(c, 1);
    }

    @Test
    void lossDropsRoughlyTheFraction() throws IOException {
        proxy.loss(Path.MEDIA, 0.3);
        UdpPeer c = client();
        int total = 1000;
        int received = 0;
        for (int batch = 0; batch < total / 50; batch++) {
            for (int i = 0; i < 50; i++) {
                c.sendInt(batch * 50 + i, proxy.mediaPort());
            }
            // Pace the sender so no socket buffer overflows: that loss would not be the proxy's.
            awaitProcessed(Direction.UPSTREAM, (batch + 1) * 50L);
            while (server.receive(Duration.ofMillis(1)) != null) {
                received++;
            }
        }
        while (server.receive(Duration.ofMillis(50)) != null) {
            received++;
        }
        FaultProxy.Stats s = proxy.stats();
        assertEquals(total, s.mediaDatagramsUpstream() + s.mediaDroppedUpstream());
        assertEquals(s.mediaDatagramsUpstream(), received);
        assertTrue(received > 600 && received < 800, "expected ~700 of 1000 to arrive, got " + received);
    }

    @Test
    void duplicateSendsDatagramsTwice() throws IOException {
        proxy.duplicate(1.0);
        UdpPeer c = client();
        for (int i = 0; i < 20; i++) {
            c.sendInt(i, proxy.mediaPort());
        }
        int[] copies = new int[20];
        for (int i = 0; i < 40; i++) {
            DatagramPacket p = server.receive(WAIT);
            assertNotNull(p, "expected 40 datagrams, got " + i);
            copies[UdpPeer.intOf(p)]++;
        }
        for (int n : copies) {
            assertEquals(2, n);
        }
        assertNull(server.receive(Duration.ofMillis(100)));
        assertEquals(20, proxy.stats().mediaDatagramsDuplicated());
    }

    @Test
    void reorderHoldsDatagramsBehindLaterOnesAndLosesNone() throws IOException {
        proxy.reorder(0.3);
        UdpPeer c = client();
        int total = 200;
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            c.sendInt(i, proxy.mediaPort());
            if (i % 20 == 19) {
                drainInto(order, Duration.ofMillis(1));
            }
        }
        Await.until(WAIT, "all datagrams to arrive", () -> {
            try {
                drainInto(order, Duration.ofMillis(10));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return order.size() >= total;
        });
        assertEquals(total, order.size());
        assertEquals(total, new TreeSet<>(order).size(), "every datagram exactly once");
        int inversions = 0;
        for (int i = 1; i < order.size(); i++) {
            if (order.get(i) < order.get(i - 1)) {
                inversions++;
            }
        }
        assertTrue(inversions > 10, "about 30 % should be overtaken, saw " + inversions + " inversions");
        assertTrue(proxy.stats().mediaDatagramsReordered() > 10);
    }

    private void drainInto(List<Integer> order, Duration wait) throws IOException {
        DatagramPacket p;
        while ((p = server.receive(wait)) != null) {
            order.add(UdpPeer.intOf(p));
        }
    }

    @Test
    void delayAddsAtLeastTheDelayEachWay() throws IOException {
        proxy.delay(Path.MEDIA, Duration.ofMillis(100), Duration.ZERO);
        UdpPeer c = client();
        for (int i = 0; i < 3; i++) {
            long start = System.nanoTime();
            SocketAddress seen = sendUp(c, i);
            server.sendInt(i, seen);
            assertNotNull(c.receive(WAIT));
            long rtt = Await.millisSince(start);
            assertTrue(rtt >= 200, "round trip " + rtt + " ms should include 2 x 100 ms");
            assertTrue(rtt < 700, "round trip " + rtt + " ms is far above the configured delay");
        }
    }

    @Test
    void jitterMayReorderIndependentDatagrams() throws IOException {
        proxy.delay(Path.MEDIA, Duration.ofMillis(30), Duration.ofMillis(29));
        UdpPeer c = client();
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            c.sendInt(i, proxy.mediaPort());
        }
        Await.until(WAIT, "all datagrams to arrive", () -> {
            try {
                drainInto(order, Duration.ofMillis(10));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return order.size() >= 50;
        });
        boolean reordered = false;
        for (int i = 1; i < order.size(); i++) {
            reordered |= order.get(i) < order.get(i - 1);
        }
        assertTrue(reordered, "50 datagrams sent at once with ±29 ms jitter should not all stay in order");
    }

    /** A server restart: datagrams to the media port bounce (ICMP port unreachable) until restore. */
    @Test
    void refuseClosesTheMediaPortUntilRestore() throws IOException {
        UdpPeer c = client();
        SocketAddress before = sendUp(c, 1);
        proxy.refuse();
        try (DatagramChannel connected = DatagramChannel.open()) {
            connected.connect(UdpPeer.loopback(proxy.mediaPort()));
            connected.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}));
            Await.until(WAIT, "the ICMP port unreachable to arrive", () -> {
                try {
                    connected.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}));
                    return false;
                } catch (PortUnreachableException e) {
                    return true;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
        assertNull(server.receive(QUIET), "nothing reaches the server while refused");
        proxy.restore();
        assertEquals(before, sendUp(c, 2), "the client keeps its upstream flow across the restart");
    }
}
