package io.roomlink.testkit;

import static io.roomlink.testkit.Await.WAIT;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.roomlink.testkit.FaultProxy.Direction;
import io.roomlink.testkit.FaultProxy.Path;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FaultProxyTcpTest {
    /** How soon the stats must show that the client closed: at once, not after some timeout. */
    private static final Duration CLIENT_GONE = Duration.ofMillis(500);

    private FaultProxy proxy;
    private TcpPeer peer;

    @BeforeEach
    void setUp() throws IOException {
        peer = new TcpPeer();
        proxy = FaultProxy.start(42);
        proxy.forwardSignalTo("127.0.0.1", peer.port());
    }

    @AfterEach
    void tearDown() throws IOException {
        proxy.close();
        peer.close();
    }

    @Test
    void echoesBothWays() throws IOException {
        Socket[] pair = peer.connectThrough(proxy, WAIT);
        pair[0].getOutputStream().write("hello".getBytes(US_ASCII));
        assertArrayEquals("hello".getBytes(US_ASCII), TcpPeer.readExactly(pair[1], 5, WAIT));
        pair[1].getOutputStream().write("world!".getBytes(US_ASCII));
        assertArrayEquals("world!".getBytes(US_ASCII), TcpPeer.readExactly(pair[0], 6, WAIT));

        FaultProxy.Stats stats = proxy.stats();
        assertEquals(1, stats.signalConnectionsAccepted());
        assertEquals(1, stats.signalConnectionsOpen());
        assertEquals(5, stats.signalBytesUpstream());
        assertEquals(6, stats.signalBytesDownstream());
        assertEquals(0, stats.signalBytesHeld());
    }

    @Test
    void closeOfOneSideReachesTheOtherAsEof() throws IOException {
        Socket[] pair = peer.connectThrough(proxy, WAIT);
        pair[0].getOutputStream().write(1);
        pair[0].shutdownOutput();
        assertEquals(1, TcpPeer.readExactly(pair[1], 1, WAIT)[0]);
        pair[1].setSoTimeout((int) WAIT.toMillis());
        assertEquals(-1, pair[1].getInputStream().read(), "half-close should arrive as EOF");
        // The other direction still works after a half-close.
        pair[1].getOutputStream().write(2);
        assertEquals(2, TcpPeer.readExactly(pair[0], 1, WAIT)[0]);
        pair[1].close();
        pair[0].setSoTimeout((int) WAIT.toMillis());
        assertEquals(-1, pair[0].getInputStream().read());
        Await.until(WAIT, "the proxied connection to close", () -> proxy.stats().signalConnectionsOpen() == 0);
        assertEquals(0, proxy.stats().signalConnectionsReset());
    }

    @Test
    void upstreamBlackholeHoldsBytesAndRestoreDeliversThemPromptlyInOrder() throws IOException {
        Socket[] pair = peer.connectThrough(proxy, WAIT);
        proxy.blackhole(Path.SIGNAL, Direction.UPSTREAM);
        OutputStream out = pair[0].getOutputStream();
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        for (int i = 0; i < 10; i++) {
            byte[] msg = ("message-" + i + ";").getBytes(US_ASCII);
            out.write(msg);
            sent.write(msg);
        }
        Await.until(WAIT, "the proxy to hold the bytes",
                () -> proxy.stats().signalBytesHeld() == sent.size());
        assertTrue(TcpPeer.silentFor(pair[1], Duration.ofMillis(300)), "nothing may reach the server");

        // Downstream still flows: only one direction is cut.
        pair[1].getOutputStream().write(7);
        assertEquals(7, TcpPeer.readExactly(pair[0], 1, WAIT)[0]);

        long start = System.nanoTime();
        proxy.restore();
        byte[] got = TcpPeer.readExactly(pair[1], sent.size(), WAIT);
        long ms = Await.millisSince(start);
        assertArrayEquals(sent.toByteArray(), got);
        assertTrue(ms < 250, "held bytes should flow at once after restore, took " + ms + " ms");
        assertEquals(0, proxy.stats().signalConnectionsReset(), "a blackhole never resets");
    }

    /**
     * On a dead network a SYN is lost like any other packet: a connect made during the cut must not
     * complete then, not even at the client kernel's first SYN retransmission (1 s), and completes
     * only with a retransmission after restore.
     */
    @Test
    void connectDuringBlackholeGetsNoAnswerUntilASynAfterRestore() throws IOException {
        Socket[] before = peer.connectThrough(proxy, WAIT); // established before the cut: stays established
        proxy.blackhole(Path.SIGNAL, Direction.BOTH);
        try (SocketChannel client = SocketChannel.open(); Selector selector = Selector.open()) {
            client.configureBlocking(false);
            assertFalse(client.connect(new InetSocketAddress("127.0.0.1", proxy.signalPort())));
            client.register(selector, SelectionKey.OP_CONNECT);
            // Past the client kernel's first SYN retransmission (1 s after the first SYN).
            assertEquals(0, selector.select(1_500), "the connect must get no answer during the cut");
            assertFalse(client.isConnected());
            assertEquals(1, proxy.stats().signalConnectionsAccepted(), "only the connection from before the cut");
            assertNull(peer.accept(Duration.ofMillis(1)), "the server must not see the connection");

            proxy.restore();
            // The next retransmission (3 s after the first SYN) gets through.
            assertEquals(1, selector.select(WAIT.toMillis()), "the connect completes after restore");
            assertTrue(client.finishConnect());
            Socket server = peer.accept(WAIT);
            assertNotNull(server, "the proxy connects it to the server");
            client.write(ByteBuffer.wrap("request".getBytes(US_ASCII)));
            assertArrayEquals("request".getBytes(US_ASCII), TcpPeer.readExactly(server, 7, WAIT));
            assertEquals(2, proxy.stats().signalConnectionsAccepted(), "the proxy's own fillers never count");
        }
        before[0].getOutputStream().write("still".getBytes(US_ASCII));
        assertArrayEquals("still".getBytes(US_ASCII), TcpPeer.readExactly(before[1], 5, WAIT));
    }

    /** A server restart: connections are reset, connects refused at once, and back on the same port after restore. */
    @Test
    void refuseResetsConnectionsRefusesConnectsAndRestoreListensOnTheSamePort() throws IOException {
        Socket[] pair = peer.connectThrough(proxy, WAIT);
        proxy.refuse();
        assertThrows(SocketException.class, () -> {
            pair[0].setSoTimeout((int) WAIT.toMillis());
            if (pair[0].getInputStream().read() == -1) {
                throw new SocketException("EOF instead of a reset");
            }
        }, "the client's connection is reset");
        long start = System.nanoTime();
        ConnectException refused = assertThrows(ConnectException.class, () -> peer.connect(proxy.signalPort()));
        assertTrue(refused.getMessage().contains("refused"), refused.getMessage());
        assertTrue(Await.millisSince(start) < 500, "refused at once (RST), not after a timeout");
        assertEquals(1, proxy.stats().signalConnectionsAccepted());

        proxy.restore();
        Socket[] again = peer.connectThrough(proxy, WAIT);
        again[0].getOutputStream().write("back".getBytes(US_ASCII));
        assertArrayEquals("back".getBytes(US_ASCII), TcpPeer.readExactly(again[1], 4, WAIT));
    }

    @Test
    void aCutDuringRefusalStillLosesSynsOnceTheRefusalEnds() throws IOException {
        proxy.refuse();
        proxy.blackhole(Path.SIGNAL, Direction.BOTH);
        assertThrows(ConnectException.class, () -> peer.connect(proxy.signalPort()), "refusing wins: RST");
        proxy.restore();
        Socket[] pair = peer.connectThrough(proxy, WAIT);
        assertNotNull(pair[1]);
    }

    @Test
    void aDownstreamCutLosesTheSynAckSoNewConnectsGetNoAnswerEither() throws IOException {
        proxy.blackhole(Path.SIGNAL, Direction.DOWNSTREAM);
        try (SocketChannel client = SocketChannel.open(); Selector selector = Selector.open()) {
            client.configureBlocking(false);
            client.connect(new InetSocketAddress("127.0.0.1", proxy.signalPort()));
            client.register(selector, SelectionKey.OP_CONNECT);
            assertEquals(0, selector.select(300), "no answer while the cut lasts");
        }
        proxy.restore();
        Socket[] pair = peer.connectThrough(proxy, WAIT); // and a connect after restore completes at once
        pair[0].getOutputStream().write("x".getBytes(US_ASCII));
        assertArrayEquals("x".getBytes(US_ASCII), TcpPeer.readExactly(pair[1], 1, WAIT));
    }

    @Test
    void downstreamBlackholeHoldsTheServersCloseToo() throws IOException {
        Socket[] pair = peer.connectThrough(proxy, WAIT);
        proxy.blackhole(Path.SIGNAL, Direction.DOWNSTREAM);
        pair[1].getOutputStream().write("bye".getBytes(US_ASCII));
        pair[1].close();
        Await.until(WAIT, "the proxy to hold the reply", () -> proxy.stats().signalBytesHeld() == 3);
        assertTrue(TcpPeer.silentFor(pair[0], Duration.ofMillis(200)), "neither bytes nor FIN may arrive");
        proxy.restore();
        assertArrayEquals("bye".getBytes(US_ASCII), TcpPeer.readExactly(pair[0], 3, WAIT));
        assertEquals(-1, pair[0].getInputStream().read());
    }

    @Test
    void clientResetDuringUpstreamBlackholeLosesTheHeldBytesAndTheServerIsResetAtRestore() throws IOException {
        Socket[] pair = peer.connectThrough(proxy, WAIT);
        proxy.blackhole(Path.SIGNAL, Direction.BOTH);
        pair[1].getOutputStream().write("down".getBytes(US_ASCII));
        pair[0].getOutputStream().write("stale".getBytes(US_ASCII));
        Await.until(WAIT, "the proxy to hold both ways", () -> proxy.stats().signalBytesHeld() == 9);

        pair[0].setSoLinger(true, 0);
        pair[0].close(); // RST: the client's kernel forgets what it had not got acknowledged
        Await.until(CLIENT_GONE, "the client side to count as closed", () -> proxy.stats().signalConnectionsOpen() == 0);
        FaultProxy.Stats stats = proxy.stats();
        assertEquals(0, stats.signalBytesHeld(), "nothing is held for a client that is gone");
        assertEquals(9, stats.signalBytesDiscarded());
        assertTrue(TcpPeer.silentFor(pair[1], Duration.ofMillis(200)), "the client's RST is lost in the blackhole");

        proxy.restore();
        assertResetWithoutData(pair[1]);
        assertEquals(0, proxy.stats().signalBytesUpstream());
        assertEquals(1, proxy.stats().signalConnectionsReset());
    }

    @Test
    void clientCloseDuringUpstreamBlackholeLosesTheHeldBytesAndTheServerIsResetAtRestore() throws IOException {
        Socket[] pair = peer.connectThrough(proxy, WAIT);
        proxy.blackhole(Path.SIGNAL, Direction.UPSTREAM);
        pair[0].getOutputStream().write("stale".getBytes(US_ASCII));
        Await.until(WAIT, "the proxy to hold the bytes", () -> proxy.stats().signalBytesHeld() == 5);

        pair[0].close(); // FIN, lost in the blackhole like the bytes before it
        Await.until(CLIENT_GONE, "the client side to count as closed", () -> proxy.stats().signalConnectionsOpen() == 0);
        assertEquals(0, proxy.stats().signalBytesHeld());
        assertEquals(5, proxy.stats().signalBytesDiscarded());
        assertTrue(TcpPeer.silentFor(pair[1], Duration.ofMillis(200)), "neither bytes nor FIN may arrive");

        proxy.restore();
        assertResetWithoutData(pair[1]);
        assertEquals(0, proxy.stats().signalBytesUpstream());
    }

    @Test
    void aConnectAbandonedDuringTheCutNeverReachesTheServer() throws IOException {
        proxy.blackhole(Path.SIGNAL, Direction.UPSTREAM);
        try (SocketChannel client = SocketChannel.open()) {
            client.configureBlocking(false);
            client.connect(new InetSocketAddress("127.0.0.1", proxy.signalPort()));
        } // gives up: its SYN was lost, nothing of it is left anywhere
        proxy.restore();
        assertNull(peer.accept(Duration.ofMillis(300)), "the SYN never got through: the server sees nothing");
        FaultProxy.Stats stats = proxy.stats();
        assertEquals(0, stats.signalConnectionsAccepted());
        assertEquals(0, stats.signalConnectionsOpen());
    }

    @Test
    void clientCloseWithoutBlackholeDeliversPendingBytesThenEof() throws IOException {
        Socket[] pair = peer.connectThrough(proxy, WAIT);
        proxy.delay(Path.SIGNAL, Duration.ofMillis(100)); // the bytes are still in the proxy at the FIN
        pair[0].getOutputStream().write("last words".getBytes(US_ASCII));
        pair[0].close();
        Await.until(CLIENT_GONE, "the client side to count as closed", () -> proxy.stats().signalConnectionsOpen() == 0);

        assertArrayEquals("last words".getBytes(US_ASCII), TcpPeer.readExactly(pair[1], 10, WAIT));
        pair[1].setSoTimeout((int) WAIT.toMillis());
        assertEquals(-1, pair[1].getInputStream().read(), "then a clean EOF");
        FaultProxy.Stats stats = proxy.stats();
        assertEquals(0, stats.signalBytesDiscarded());
        assertEquals(0, stats.signalConnectionsReset());
    }

    /** After restore() the server's read fails with a reset: no stale byte, no clean EOF. */
    private static void assertResetWithoutData(Socket server) throws IOException {
        server.setSoTimeout((int) WAIT.toMillis());
        SocketException e = assertThrows(SocketException.class, () -> {
            int b = server.getInputStream().read();
            throw new AssertionError(b < 0 ? "clean EOF instead of a reset" : "a held byte reached the server: " + b);
        });
        assertTrue(e.getMessage().toLowerCase().contains("reset"), e.getMessage());
    }

    @Test
    void resetConnectionsResetsBothEnds() throws IOException {
        Socket[] pair = peer.connectThrough(proxy, WAIT);
        pair[0].getOutputStream().write(1);
        TcpPeer.readExactly(pair[1], 1, WAIT);

        proxy.resetConnections();

        for (Socket s : pair) {
            s.setSoTimeout((int) WAIT.toMillis());
            SocketException e = assertThrows(SocketException.class, () -> s.getInputStream().read(),
                    "each end should see a reset, not a clean EOF");
            assertTrue(e.getMessage().toLowerCase().contains("reset"), e.getMessage());
        }
        FaultProxy.Stats stats = proxy.stats();
        assertEquals(1, stats.signalConnectionsReset());
        assertEquals(0, stats.signalConnectionsOpen());

        // The proxy itself keeps working for new connections.
        Socket[] again = peer.connectThrough(proxy, WAIT);
        again[0].getOutputStream().write(9);
        assertEquals(9, TcpPeer.readExactly(again[1], 1, WAIT)[0]);
    }

    @Test
    void delayAddsAtLeastTheDelayEachWay() throws IOException {
        Socket[] pair = peer.connectThrough(proxy, WAIT);
        proxy.delay(Path.SIGNAL, Duration.ofMillis(100), Duration.ZERO);
        for (int i = 0; i < 3; i++) {
            long start = System.nanoTime();
            pair[0].getOutputStream().write(i);
            TcpPeer.readExactly(pair[1], 1, WAIT);
            pair[1].getOutputStream().write(i);
            TcpPeer.readExactly(pair[0], 1, WAIT);
            long rtt = Await.millisSince(start);
            assertTrue(rtt >= 200, "round trip " + rtt + " ms should include 2 x 100 ms");
            assertTrue(rtt < 200 + 500, "round trip " + rtt + " ms is far above the configured delay");
        }
    }

    @Test
    void jitteredDelayKeepsTheByteOrder() throws IOException {
        Socket[] pair = peer.connectThrough(proxy, WAIT);
        proxy.delay(Path.SIGNAL, Duration.ofMillis(20), Duration.ofMillis(19));
        byte[] sent = writeInSeparateChunks(pair[0], 40, 16, proxy);
        assertArrayEquals(sent, TcpPeer.readExactly(pair[1], sent.length, WAIT));
    }

    @Test
    void lossDelaysChunksButKeepsEveryByteInOrder() throws IOException {
        Socket[] pair = peer.connectThrough(proxy, WAIT);
        proxy.loss(Path.SIGNAL, 0.3);
        long start = System.nanoTime();
        byte[] sent = writeInSeparateChunks(pair[0], 30, 512, proxy);
        assertArrayEquals(sent, TcpPeer.readExactly(pair[1], sent.length, Duration.ofSeconds(10)));
        long ms = Await.millisSince(start);
        assertTrue(proxy.stats().signalChunksRetransmitted() > 0, "with 30 chunks at 30 % some must be lost");
        assertTrue(ms >= 195, "a lost chunk waits for the 200 ms retransmission time, all took " + ms + " ms");
    }

    /**
     * Writes {@code count} messages, waiting after each until the proxy has read it, so that each
     * becomes its own chunk inside the proxy and gets its own fault decision.
     */
    private static byte[] writeInSeparateChunks(Socket s, int count, int size, FaultProxy proxy) throws IOException {
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        Random random = new Random(7);
        for (int i = 0; i < count; i++) {
            byte[] msg = new byte[size];
            random.nextBytes(msg);
            s.getOutputStream().write(msg);
            sent.write(msg);
            long expected = sent.size();
            Await.until(WAIT, "the proxy to read message " + i, () -> {
                FaultProxy.Stats st = proxy.stats();
                return st.signalBytesUpstream() + st.signalBytesHeld() >= expected;
            });
        }
        return sent.toByteArray();
    }
}
